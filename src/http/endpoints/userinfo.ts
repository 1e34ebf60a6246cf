/**
 * GET/POST /userinfo (OIDC Core §5.3): the claims about the user that the access token's
 * scopes release (§5.4), `sub` always. The token comes as `Authorization: Bearer` or, on POST,
 * as a form-encoded `access_token` (RFC 6750 §2.1, §2.2) — never in the query string.
 *
 * Errors follow RFC 6750 §3: 401 invalid_token (with a `WWW-Authenticate: Bearer` challenge)
 * for a missing, expired, revoked, forged or foreign token or a disabled user; 403
 * insufficient_scope without `openid`; 400 invalid_request for a malformed request. The body
 * is the usual JSON error too.
 *
 * Browser apps may call it cross-origin: the token is a bearer header, not a cookie, so
 * `Access-Control-Allow-Origin: *` exposes nothing a caller without the token could read.
 */
import type { Middleware } from 'koa';
import { extractBearerToken, insufficientScopeError, invalidTokenError } from '../../oauth/bearer';
import { claimsForScopes } from '../../tokens/claims';
import {
  AccessTokenRejected,
  verifyIssuedAccessToken,
  type AccessTokenVerifierDeps,
} from '../../tokens/verify-issued-access-token';
import type { AppState } from '../types';

export function userinfo(deps: AccessTokenVerifierDeps): Middleware<AppState> {
  return async (ctx) => {
    allowCors(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    const token = extractBearerToken({
      authorization: ctx.get('authorization') || undefined,
      body: ctx.method === 'POST' ? ctx.state.params : undefined,
      query: new URLSearchParams(ctx.querystring),
    });
    let verified;
    try {
      verified = await verifyIssuedAccessToken(token, deps);
    } catch (err) {
      if (err instanceof AccessTokenRejected) {
        ctx.state.log.debug({ reason: err.reason }, 'userinfo: access token rejected');
        throw invalidTokenError('The access token is invalid, expired or revoked', err);
      }
      throw err;
    }
    const { claims, user } = verified;
    // A client's own token (client_credentials) has no end-user to describe.
    if (!user) throw invalidTokenError('The access token does not belong to a user');
    if (!claims.scopes.has('openid')) throw insufficientScopeError('openid');
    ctx.type = 'application/json';
    ctx.body = { sub: user.id, ...claimsForScopes(user, claims.scopes) };
  };
}

/** CORS for browser apps: any origin, bearer header only (no cookies, so no credentials mode). */
function allowCors(ctx: Parameters<Middleware<AppState>>[0]): void {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
}

/** OPTIONS /userinfo: the CORS preflight for `Authorization` and form posts. */
export function userinfoPreflight(): Middleware<AppState> {
  return (ctx) => {
    allowCors(ctx);
    ctx.set('Access-Control-Allow-Methods', 'GET, POST');
    ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
  };
}
