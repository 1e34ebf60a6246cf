/**
 * Refresh-token families and tokens as stored (only hashes of the opaque values), and the
 * repository the grants, revocation and logout use: rotation, its retry, family revocation.
 */
import type { UserProfile } from '../accounts/user-storage';

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
  /** RFC 8707: resources granted at login; refreshes may narrow to a subset. Empty: none named. */
  resources: string[];
  /** RFC 9449 §5: the DPoP key thumbprint its refresh tokens are bound to; null: unbound. */
  dpopJkt: string | null;
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
  /** RFC 8707: the resources the login granted (default: none named). */
  resources?: string[];
  /** The DPoP key thumbprint to bind its refresh tokens to (public clients, RFC 9449 §5). */
  dpopJkt?: string | null;
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

/** A rotation (rotateRefreshToken()): the successor, its family's login facts and its user. */
export interface RefreshRotation {
  rotated: RefreshTokenRecord;
  family: Pick<
    RefreshFamilyRecord,
    'id' | 'userId' | 'sessionId' | 'scope' | 'authTime' | 'amr' | 'resources'
  >;
  user: UserProfile;
}

/** The successor a rotation inserts, with its id and its retry seal (tokens/retry-seal.ts). */
export interface RotationSuccessor extends Omit<NewRefreshToken, 'scope'> {
  id: string;
  /** The successor's plaintext sealed under the presented token, kept for the retry window. */
  retrySeal: Buffer;
}

/** An access token minted by a retried rotation, denied with its family. */
export interface RetryAccessToken {
  jti: string;
  expiresAt: Date;
}

/** A retried rotation (replayRotation()): the successor the rotation issued, still sealed. */
export interface RefreshReplay {
  successor: { id: string; tokenHash: string };
  sealed: Buffer;
  family: Pick<
    RefreshFamilyRecord,
    'id' | 'userId' | 'sessionId' | 'scope' | 'authTime' | 'amr' | 'resources'
  >;
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
   * (findByHash) to tell which. A family bound to a DPoP key (RFC 9449 §5) rotates only for a
   * request whose proof was made with that key (`proofJkt`).
   */
  rotateRefreshToken(
    presentedHash: string,
    clientId: string,
    at: Date,
    successor: RotationSuccessor,
    proofJkt?: string | null,
  ): Promise<RefreshRotation | null>;
  /**
   * A retry of a rotation: the presented token was rotated at or after `windowStart`, its
   * retry seal is still there (its successor has not been rotated, its family not revoked),
   * the family is `clientId`'s and alive, the successor unexpired and the user enabled. Then
   * records `accessToken` as minted from the family (so revoking the family denies it) and
   * returns the sealed successor; otherwise null and nothing changes.
   */
  replayRotation(
    presentedHash: string,
    clientId: string,
    at: Date,
    windowStart: Date,
    accessToken: RetryAccessToken,
  ): Promise<RefreshReplay | null>;
  /**
   * Revokes a family: the family row, every refresh token in it, and (into
   * revoked_access_tokens) the still-unexpired access tokens issued with them. Returns false
   * when it was already revoked (or does not exist).
   */
  revokeFamily(familyId: string, reason: string, at: Date): Promise<boolean>;
  /** Revokes every live family of a user (logout everywhere, disabled user); returns how many. */
  revokeAllForUser(userId: string, reason: string, at: Date): Promise<number>;
}
