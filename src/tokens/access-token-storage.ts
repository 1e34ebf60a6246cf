/** What is stored of access tokens: their identity and expiry, and the denylist of revoked ones. */
import type { UserProfile } from '../accounts/user-storage';

/** An access token's identity and expiry (`jti`, `exp`), as stored to revoke it later. */
export interface IssuedAccessToken {
  jti: string;
  expiresAt: Date;
}

/**
 * Access tokens denied before their expiry (RFC 7009 §2.2), by `jti`. Rows are needed only
 * until the token's own `exp`; the purge job deletes them after that.
 */
export interface RevokedAccessTokenRepository {
  isRevoked(jti: string): Promise<boolean>;
  /** isRevoked(jti) and the user `userId` (null if none) in one round trip (introspection, userinfo). */
  isRevokedWithUser(
    jti: string,
    userId: string,
  ): Promise<{ revoked: boolean; user: UserProfile | null }>;
  /**
   * Denies `jti` until `deniedUntil`, which every caller computes as accessTokenDeniedUntil(exp)
   * (tokens/access-token-expiry.ts); idempotent. Returns false when it was already denied.
   */
  revoke(jti: string, deniedUntil: Date, reason: string): Promise<boolean>;
  /** Deletes rows denied until before `before`: the verifier refuses those tokens as expired; returns how many. */
  purgeExpired(before: Date): Promise<number>;
}
