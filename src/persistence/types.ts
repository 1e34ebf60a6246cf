/**
 * Domain records and the repository interfaces the rest of Tessera uses. Prisma's generated
 * types never leave src/persistence/prisma/.
 */
export type SigningAlg = 'RS256' | 'ES256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'ES256'];

export const GRANT_TYPES = ['password', 'refresh_token', 'authorization_code', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  preferredUsername: string | null;
  picture: string | null;
  locale: string | null;
  roles: string[];
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A user as the token paths see it (claims, enabled or not): everything but the password hash,
 * which only the login path loads.
 */
export type UserProfile = Omit<UserRecord, 'passwordHash'>;

export interface NewUser {
  email: string;
  passwordHash: string;
  name?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  emailVerified?: boolean;
  roles?: string[];
}

export interface UserRepository {
  create(user: NewUser): Promise<UserRecord>;
  findById(id: string): Promise<UserRecord | null>;
  /** Email is matched case-insensitively (stored lower-cased). */
  findByEmail(email: string): Promise<UserRecord | null>;
  list(): Promise<UserRecord[]>;
  setDisabled(id: string, disabled: boolean, at: Date): Promise<void>;
  /** Replaces the hash only if it is still `expected` (transparent rehash must not undo a password change). */
  updatePasswordHash(id: string, expected: string, next: string): Promise<void>;
}

export interface ClientRecord {
  id: string;
  name: string;
  secretHash: string | null;
  isPublic: boolean;
  firstParty: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  audiences: string[];
  accessTokenTtl: number | null;
  idTokenTtl: number | null;
  refreshTokenTtl: number | null;
  refreshTokenIdleTtl: number | null;
  signingAlg: SigningAlg | null;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type NewClient = Omit<ClientRecord, 'createdAt' | 'updatedAt' | 'disabled'> & { disabled?: boolean };

export interface ClientRepository {
  create(client: NewClient): Promise<ClientRecord>;
  findById(id: string): Promise<ClientRecord | null>;
  list(): Promise<ClientRecord[]>;
  setSecretHash(id: string, secretHash: string, at: Date): Promise<void>;
  setDisabled(id: string, disabled: boolean): Promise<void>;
}

export interface AuditEventInput {
  type: string;
  userId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditEventRecord extends Required<Omit<AuditEventInput, 'details'>> {
  id: string;
  at: Date;
  details: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEventInput): Promise<void>;
  list(filter: { userId?: string; type?: string; since?: Date; limit?: number }): Promise<AuditEventRecord[]>;
}

export type KeyState = 'next' | 'active' | 'retiring' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlg;
  state: KeyState;
  publicJwk: Record<string, string>;
  /** iv || ciphertext || tag; null once retired (private part destroyed). */
  privateKeyCipher: Buffer | null;
  kekId: string | null;
  createdAt: Date;
  publishedAt: Date;
  activatedAt: Date | null;
  retiringAt: Date | null;
  retireAfter: Date | null;
  retiredAt: Date | null;
  updatedAt: Date;
}

export type NewSigningKey = Omit<SigningKeyRecord, 'createdAt' | 'updatedAt'>;

export type SigningKeyPatch = Partial<Pick<SigningKeyRecord, 'state' | 'privateKeyCipher' | 'kekId' | 'activatedAt' | 'retiringAt' | 'retireAfter' | 'retiredAt'>>;

/** Operations on signing keys inside one transaction holding the key-store lock. */
export interface SigningKeyTx {
  list(): Promise<SigningKeyRecord[]>;
  insert(key: NewSigningKey): Promise<void>;
  /** Updates a key only if it is still in state `from`; returns whether it was. */
  transition(kid: string, from: KeyState, patch: SigningKeyPatch): Promise<boolean>;
  update(kid: string, patch: SigningKeyPatch): Promise<void>;
}

export interface SigningKeyRepository {
  /** Every key that is not retired (published in the JWKS, or the active signer). */
  listPublished(): Promise<SigningKeyRecord[]>;
  listAll(): Promise<SigningKeyRecord[]>;
  /** A cheap token that changes whenever any key changes (for polling refresh). */
  version(): Promise<string>;
  /**
   * Runs `fn` in one transaction under a PostgreSQL advisory transaction lock, so concurrent
   * rotations (script, other instances) serialise; all or nothing.
   */
  locked<T>(fn: (tx: SigningKeyTx) => Promise<T>): Promise<T>;
  /** Like `locked`, but returns null at once when another holder has the lock. */
  tryLocked<T>(fn: (tx: SigningKeyTx) => Promise<T>): Promise<T | null>;
}

/** One login's chain of refresh tokens (refresh_token_families). */
export interface RefreshFamilyRecord {
  id: string;
  clientId: string;
  userId: string;
  sessionId: string | null;
  /** Scope granted at login; refreshes may narrow it, never widen it. */
  scope: string;
  authTime: Date;
  amr: string[];
  createdAt: Date;
  /** Absolute end of the family. */
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

/** One refresh token; only the SHA-256 of the opaque value is stored. */
export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  tokenHash: string;
  parentId: string | null;
  scope: string;
  /** The access token issued with this refresh token (denied by jti when the family is revoked). */
  accessTokenJti: string | null;
  accessTokenExpiresAt: Date | null;
  createdAt: Date;
  idleExpiresAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

export interface NewRefreshFamily {
  clientId: string;
  userId: string;
  sessionId?: string | null;
  scope: string;
  authTime: Date;
  amr: string[];
  expiresAt: Date;
}

export interface NewRefreshToken {
  tokenHash: string;
  scope: string;
  accessTokenJti: string | null;
  accessTokenExpiresAt: Date | null;
  idleExpiresAt: Date;
}

/** A family a login opens, without its user (LoginRepository.succeed fills in the verified one). */
export interface OpeningFamily {
  family: Omit<NewRefreshFamily, 'userId'>;
  first: NewRefreshToken;
}

export interface RefreshTokenWithFamily {
  token: RefreshTokenRecord;
  family: RefreshFamilyRecord;
}

export interface RefreshTokenLookup extends RefreshTokenWithFamily {
  /** The family's user; null when the account is gone. */
  user: UserProfile | null;
}

/** A rotation (rotate()): the successor, its family's login facts and its user. */
export interface RefreshRotation {
  rotated: RefreshTokenRecord;
  family: Pick<RefreshFamilyRecord, 'id' | 'userId' | 'sessionId' | 'scope' | 'authTime' | 'amr'>;
  user: UserProfile;
}

export interface RefreshTokenRepository {
  /** Creates a family (one login) and its first refresh token in one transaction. */
  createFamily(family: NewRefreshFamily, first: NewRefreshToken): Promise<RefreshTokenWithFamily>;
  /** The token with this hash, its family and their user, whatever their state (callers check it). */
  findByHash(tokenHash: string): Promise<RefreshTokenLookup | null>;
  /**
   * Rotation, atomically: locks the family (alive, `clientId`'s, its user present and
   * enabled), marks the presented token rotated with one conditional UPDATE (… WHERE
   * rotated_at IS NULL AND revoked_at IS NULL AND idle_expires_at > at) that must hit exactly
   * one row, and inserts the successor (same family, parent_id = presented, the family's scope,
   * an idle expiry capped at the family's expiry) in the same transaction. Returns null — and
   * changes nothing — when any of that fails (unknown token, another client's, already
   * rotated, revoked, expired, user disabled, a lost race): the caller looks the token up
   * (findByHash) to tell which.
   */
  rotate(presentedHash: string, clientId: string, at: Date, successor: Omit<NewRefreshToken, 'scope'>): Promise<RefreshRotation | null>;
  /**
   * Revokes a family: the family row, every refresh token in it, and (into
   * revoked_access_tokens) the still-unexpired access tokens issued with them. Returns false
   * when it was already revoked (or does not exist).
   */
  revokeFamily(familyId: string, reason: string, at: Date): Promise<boolean>;
  /** Revokes every live family of a user (logout everywhere, disabled user); returns how many. */
  revokeAllForUser(userId: string, reason: string, at: Date): Promise<number>;
}

/**
 * Access tokens denied before their expiry (RFC 7009 §2.2), by `jti`. Rows are needed only
 * until the token's own `exp`; the purge job deletes them after that.
 */
export interface RevokedAccessTokenRepository {
  isRevoked(jti: string): Promise<boolean>;
  /** isRevoked(jti) and the user `userId` (null if none) in one round trip (introspection, userinfo). */
  isRevokedWithUser(jti: string, userId: string): Promise<{ revoked: boolean; user: UserProfile | null }>;
  /** Denies `jti` until `expiresAt`; idempotent. Returns false when it was already denied. */
  revoke(jti: string, expiresAt: Date, reason: string): Promise<boolean>;
  /** Deletes rows whose token has expired anyway; returns how many. */
  purgeExpired(before: Date): Promise<number>;
}

/** A browser (SSO) session; the cookie's secret is never stored, only its SHA-256. */
export interface BrowserSessionRecord {
  id: string;
  userId: string;
  authTime: Date;
  amr: string[];
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export interface BrowserSessionRepository {
  create(session: { secretHash: string; userId: string; authTime: Date; amr: string[]; expiresAt: Date; now: Date }): Promise<BrowserSessionRecord>;
  /** The session whose secret hashes to `secretHash`, if it has not ended or expired at `now`. */
  findActive(secretHash: string, now: Date): Promise<BrowserSessionRecord | null>;
  touch(id: string, at: Date): Promise<void>;
  /** Ends the session; returns whether it was still active. */
  end(id: string, at: Date): Promise<boolean>;
  /** Live refresh-token families born in this session (RP-initiated logout revokes them). */
  liveFamilyIds(sessionId: string): Promise<string[]>;
  /** Deletes sessions that expired or ended before `before`; returns how many. */
  purgeExpired(before: Date): Promise<number>;
}

export interface ConsentRepository {
  /** Scopes the user has approved for the client (empty when none). */
  grantedScopes(userId: string, clientId: string): Promise<string[]>;
  /** Adds `scopes` to what the user approved for the client. */
  grant(userId: string, clientId: string, scopes: string[]): Promise<void>;
}

export interface AuthorizationCodeRecord {
  id: string;
  clientId: string;
  userId: string;
  sessionId: string | null;
  redirectUri: string;
  scope: string;
  nonce: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  authTime: Date;
  amr: string[];
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
  /** The refresh-token family issued from this code (set after issuance). */
  familyId: string | null;
}

export type NewAuthorizationCode = Omit<AuthorizationCodeRecord, 'id' | 'consumedAt' | 'familyId' | 'createdAt'> & { codeHash: string; createdAt: Date };

export interface AuthorizationCodeRepository {
  create(code: NewAuthorizationCode): Promise<AuthorizationCodeRecord>;
  findByHash(codeHash: string): Promise<AuthorizationCodeRecord | null>;
  /**
   * Marks the code used with one conditional update (consumed_at IS NULL); true only for the
   * single caller that consumed it (RFC 6749 §4.1.2: a code is used once).
   */
  consume(id: string, at: Date): Promise<boolean>;
  /**
   * Records the family issued from the code. False when a replay of the code got there first
   * (markReplayed); the caller must then revoke the family it just created.
   */
  attachFamily(id: string, familyId: string): Promise<boolean>;
  /**
   * A consumed code was presented again: returns the family to revoke (null when none was
   * attached yet, in which case attachFamily will refuse and its caller revokes).
   */
  markReplayed(id: string): Promise<string | null>;
  /** Deletes codes that expired before `before`. */
  purgeExpired(before: Date): Promise<number>;
}

/** Failed-login counters shared by every instance (login_throttles), keyed `acct:<email>` / `ip:<ip>`. */
export interface LoginThrottleState {
  key: string;
  failures: number;
  lastFailure: Date;
  blockedUntil: Date | null;
}

export interface LoginBackoffPolicy {
  /** Failures at which backoff starts. */
  maxFailures: number;
  baseSeconds: number;
  maxSeconds: number;
  /** A counter whose last failure is older than this starts again from zero. */
  windowSeconds: number;
}

export type LoginAttemptSlot = { allowed: true; state: LoginThrottleState } | { allowed: false; blockedUntil: Date };

export interface LoginThrottleKey {
  key: string;
  policy: LoginBackoffPolicy;
}

/** What a login attempt starts with (LoginRepository.begin). */
export interface LoginStart {
  account: LoginAttemptSlot;
  /** Null when the account key was blocked (the IP is then not counted). */
  ip: LoginAttemptSlot | null;
  /** The account, loaded only when neither key is blocked. */
  user: UserRecord | null;
}

/** A verified login's bookkeeping (LoginRepository.succeed). */
export interface LoginSuccess {
  /** The account key, forgotten. */
  resetKey: string;
  /** The IP key, whose attempt (counted by begin) is taken back. */
  release: LoginThrottleKey;
  userId: string;
  at: Date;
  audit: AuditEventInput;
  /** A refresh-token family the login opens, written in the same statement. */
  openFamily?: OpeningFamily | undefined;
}

/**
 * A password login's database work, in as few round trips as it can be (the login path's CPU
 * belongs to argon2id): one statement before the password is checked, one after it succeeded.
 * Failed-login counters live in login_throttles, shared by every instance.
 */
export interface LoginRepository {
  /**
   * Counts the attempt as a failure *before* the password is checked, per account and then —
   * only when the account is not blocked — per IP (each one atomic upsert, unless that key is
   * blocked: then nothing is counted for it and the block's end is returned), and loads the
   * account by email when neither is blocked; one statement. Counting first means parallel
   * guesses cannot all slip past a check made before any was recorded.
   */
  begin(email: string, account: LoginThrottleKey, ip: LoginThrottleKey, at: Date): Promise<LoginStart>;
  /** Takes back one attempt counted by begin (the other key refused the login), recomputing the block. */
  release(key: LoginThrottleKey): Promise<void>;
  /**
   * After the password matched, atomically in one statement: the account counter forgotten,
   * the IP's attempt taken back, the user's last login time, the `audit` event and, when
   * given, the refresh-token family the login opens.
   */
  succeed(success: LoginSuccess): Promise<void>;
}
