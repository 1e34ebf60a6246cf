/**
 * POST /logout with `Authorization: Bearer <access token>`: the user ends all their sessions
 * ("sign out everywhere"). Every refresh-token family of the token's user — with every
 * client — is revoked with the access tokens issued from them, and so is the presented
 * access token; each client with a backchannel_logout_uri is sent a logout token (queued, not
 * awaited). Answers 200 `{ "sessions_ended": n }`.
 *
 * The token must be valid (same rules as /userinfo) and belong to a user; a client's own
 * token (client_credentials) has no sessions to end. Browser (SSO) sessions and
 * RP-initiated logout are the authorization-code flow's concern, not this endpoint's.
 */
import type { Middleware } from 'koa';
import { extractBearerToken, invalidTokenError } from '../../oauth/bearer';
import { endAllSessions, type RevocationDeps } from '../../oauth/revocation';
import type { RevokedAccessTokenRepository } from '../../tokens/access-token-storage';
import { accessTokenDeniedUntil } from '../../tokens/access-token-expiry';
import {
  AccessTokenRejected,
  verifyIssuedAccessToken,
  type AccessTokenVerifierDeps,
} from '../../tokens/verify-issued-access-token';
import type { AppState } from '../types';

export type LogoutDeps = AccessTokenVerifierDeps &
  Pick<RevocationDeps, 'refreshTokens' | 'audit' | 'backchannelLogout'> & {
    revokedAccessTokens: Pick<RevokedAccessTokenRepository, 'isRevoked' | 'revoke'>;
  };

export function logout(deps: LogoutDeps): Middleware<AppState> {
  return async (ctx) => {
    const token = extractBearerToken({
      authorization: ctx.get('authorization') || undefined,
      body: ctx.state.params,
      query: new URLSearchParams(ctx.querystring),
    });
    let verified;
    try {
      verified = await verifyIssuedAccessToken(token, deps);
    } catch (err) {
      if (err instanceof AccessTokenRejected)
        throw invalidTokenError('The access token is invalid, expired or revoked', err);
      throw err;
    }
    const { claims, user } = verified;
    if (!user) throw invalidTokenError('The access token does not belong to a user');
    const req = { requestId: ctx.state.requestId, ip: ctx.ip };
    const client = await deps.clients.findById(claims.clientId);
    const ended = await endAllSessions(user.id, client, deps, req, 'logout');
    // The presented token may not have come with a refresh token (or from another family).
    await deps.revokedAccessTokens.revoke(claims.jti, accessTokenDeniedUntil(claims.exp), 'logout');
    ctx.body = { sessions_ended: ended };
  };
}
