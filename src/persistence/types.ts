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
  recordLogin(id: string, at: Date): Promise<void>;
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
