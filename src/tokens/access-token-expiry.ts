/**
 * When Tessera's own access tokens stop being accepted by Tessera itself, and so until when a
 * revoked one must stay on the deny-list. One rule for the verifier (verify-issued-access-token.ts)
 * and for every writer of revoked_access_tokens (single revocation, family revocation,
 * logout, code replay), so that a revoked token can never outlive its deny-list row.
 *
 * Tessera is the issuer: its own clock decides whether a token has expired, so `exp` is
 * checked with no tolerance (RFC 7662 §2.2: `active` means, among others, not expired;
 * RFC 7519 §4.1.4). CLOCK_SKEW stays the tolerance for other parties' clocks (an `iat` or
 * `nbf` minted slightly in the future) and for resource servers verifying on their own.
 */

/** Seconds past `exp` during which Tessera still accepts its own access token: none. */
export const ISSUER_EXP_LEEWAY_SECONDS = 0;

/**
 * Until when a revoked access token with this `exp` (epoch seconds, or the stored expiry) must
 * be denied: the first instant the verifier refuses it as expired anyway. The purge deletes a
 * row only once this lies in the past (`expires_at < now`), and the verifier accepts the token
 * only while `now < exp + ISSUER_EXP_LEEWAY_SECONDS`, so the row outlives every moment the
 * token could otherwise pass.
 */
export function accessTokenDeniedUntil(exp: number | Date): Date {
  const expMs = typeof exp === 'number' ? exp * 1000 : exp.getTime();
  return new Date(expMs + ISSUER_EXP_LEEWAY_SECONDS * 1000);
}
