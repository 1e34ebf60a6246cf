/**
 * Token revocation (RFC 7009 §2.1) and "end all my sessions".
 *
 * - A refresh token revokes its whole family (the login): every refresh token in it and the
 *   unexpired access tokens issued with them (RFC 7009 §2.1: "SHOULD also invalidate all
 *   access tokens based on the same authorization grant").
 * - An access token's `jti` is denied until accessTokenDeniedUntil(exp), when the verifier
 *   refuses it as expired anyway; the refresh token it came with lives (RFC 7009 §2.1 makes
 *   that optional; a client that wants the login gone revokes the refresh token).
 * - Only the client a token was issued to may revoke it. Unknown, malformed, expired tokens
 *   and tokens of another client are ignored and the caller still gets 200 (RFC 7009 §2.2:
 *   "invalid tokens do not cause an error … the client cannot handle such an error in a
 *   reasonable way"), so the endpoint cannot be used to probe which tokens exist.
 * - `logout_all` (a Tessera extension): the token's user's every family, with every client,
 *   is revoked too — the "sign me out everywhere" button of a first-party app — and each client
 *   with a backchannel_logout_uri is sent a logout token (oauth/logout/backchannel-logout.ts).
 *
 * The hint is not needed: the two kinds are told apart by their form (see introspection.ts),
 * and an unknown hint value is ignored rather than refused.
 */
import type { AuditLog } from '../observability/audit-log';
import type { BackchannelLogout } from './logout/backchannel-logout';
import type { ClientRecord } from '../clients/client-storage';
import type { RefreshTokenRepository } from '../tokens/refresh-token-storage';
import type { RevokedAccessTokenRepository } from '../tokens/access-token-storage';
import { sha256 } from '../shared/crypto';
import { accessTokenDeniedUntil } from '../tokens/access-token-expiry';
import {
  AccessTokenRejected,
  isClientToken,
  verifyIssuedAccessTokenJwt,
  type AccessTokenVerifierDeps,
} from '../tokens/verify-issued-access-token';
import { looksLikeJwt } from './introspection';

export interface RevocationDeps extends Pick<
  AccessTokenVerifierDeps,
  'keyStore' | 'clock' | 'issuer' | 'clockSkewSeconds'
> {
  refreshTokens: Pick<RefreshTokenRepository, 'findByHash' | 'revokeFamily' | 'revokeAllForUser'>;
  revokedAccessTokens: Pick<RevokedAccessTokenRepository, 'revoke'>;
  audit: AuditLog;
  backchannelLogout: Pick<BackchannelLogout, 'userSessionsEnding'>;
}

export interface RequestContext {
  requestId?: string | null;
  ip?: string | null;
}

export interface RevocationOutcome {
  /** What was found and revoked; `none` when the token was ignored. */
  revoked: 'refresh_token' | 'access_token' | 'none';
  /** Families revoked by `logout_all`. */
  sessionsEnded: number;
}

const NOTHING: RevocationOutcome = { revoked: 'none', sessionsEnded: 0 };

export async function revokeToken(
  token: string,
  options: { logoutAll: boolean },
  caller: ClientRecord,
  deps: RevocationDeps,
  req: RequestContext = {},
): Promise<RevocationOutcome> {
  return looksLikeJwt(token)
    ? revokeAccessToken(token, options, caller, deps, req)
    : revokeRefreshToken(token, options, caller, deps, req);
}

async function revokeRefreshToken(
  token: string,
  options: { logoutAll: boolean },
  caller: ClientRecord,
  deps: RevocationDeps,
  req: RequestContext,
): Promise<RevocationOutcome> {
  if (token.length === 0 || token.length > 512) return NOTHING;
  const found = await deps.refreshTokens.findByHash(sha256(token));
  // RFC 7009 §2.1: the server verifies the token was issued to the client making the request.
  if (!found || found.family.clientId !== caller.id) return NOTHING;
  const now = deps.clock.now();
  const { family } = found;
  const revoked = await deps.refreshTokens.revokeFamily(family.id, 'revoked_by_client', now);
  if (revoked) {
    await deps.audit.record({
      type: 'token.revoked',
      userId: family.userId,
      clientId: caller.id,
      ...req,
      details: { token_type: 'refresh_token', family_id: family.id },
    });
  }
  const sessionsEnded = options.logoutAll
    ? await endAllSessions(family.userId, caller, deps, req)
    : 0;
  return { revoked: 'refresh_token', sessionsEnded };
}

async function revokeAccessToken(
  token: string,
  options: { logoutAll: boolean },
  caller: ClientRecord,
  deps: RevocationDeps,
  req: RequestContext,
): Promise<RevocationOutcome> {
  let claims;
  try {
    // An expired token needs no revocation; a forged or foreign one is ignored.
    ({ claims } = await verifyIssuedAccessTokenJwt(token, deps));
  } catch (err) {
    if (err instanceof AccessTokenRejected) return NOTHING;
    throw err;
  }
  if (claims.clientId !== caller.id) return NOTHING;
  const userId = isClientToken(claims) ? null : claims.sub;
  // Denied until the verifier refuses it as expired anyway (it passed verification, so that lies ahead).
  if (
    await deps.revokedAccessTokens.revoke(
      claims.jti,
      accessTokenDeniedUntil(claims.exp),
      'revoked_by_client',
    )
  ) {
    await deps.audit.record({
      type: 'token.revoked',
      userId,
      clientId: caller.id,
      ...req,
      details: { token_type: 'access_token', jti: claims.jti },
    });
  }
  const sessionsEnded =
    options.logoutAll && userId ? await endAllSessions(userId, caller, deps, req) : 0;
  return { revoked: 'access_token', sessionsEnded };
}

/**
 * Revokes every refresh-token family of the user (all clients) and their access tokens, and
 * queues a logout token for each client with a backchannel_logout_uri that the user has a
 * session with (Back-Channel Logout 1.0 §2.7) — first, while the families still name them.
 */
export async function endAllSessions(
  userId: string,
  caller: ClientRecord | null,
  deps: Pick<RevocationDeps, 'refreshTokens' | 'audit' | 'clock' | 'backchannelLogout'>,
  req: RequestContext = {},
  reason = 'logout_all',
): Promise<number> {
  const notified = await deps.backchannelLogout.userSessionsEnding(userId, reason);
  const count = await deps.refreshTokens.revokeAllForUser(userId, reason, deps.clock.now());
  await deps.audit.record({
    type: 'user.sessions_revoked',
    userId,
    clientId: caller?.id ?? null,
    ...req,
    details: {
      reason,
      families: count,
      ...(notified ? { backchannel_logout_tokens: notified } : {}),
    },
  });
  return count;
}
