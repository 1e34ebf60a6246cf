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
 * A DPoP-bound token (RFC 9449 §7) comes as `Authorization: DPoP` with a proof for this
 * request and token; its refusals carry a `WWW-Authenticate: DPoP` challenge
 * (oauth/dpop/protected-resource.ts).
 *
 * Browser apps may call it cross-origin: the token is a bearer header, not a cookie, so
 * `Access-Control-Allow-Origin: *` exposes nothing a caller without the token could read.
 */
import type { Middleware } from 'koa';
import { insufficientScopeError, invalidTokenError } from '../../oauth/bearer';
import { dpopHeaderValues, type DpopProofs } from '../../oauth/dpop/proofs';
import {
  checkSenderConstraint,
  dpopError,
  extractAccessToken,
} from '../../oauth/dpop/protected-resource';
import { claimsForScopes } from '../../tokens/claims';
import {
  AccessTokenRejected,
  verifyIssuedAccessToken,
  type AccessTokenVerifierDeps,
} from '../../tokens/verify-issued-access-token';
import type { AppState } from '../types';

export function userinfo(deps: AccessTokenVerifierDeps, dpop: DpopProofs): Middleware<AppState> {
  return async (ctx) => {
    allowCors(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    const presented = extractAccessToken({
      authorization: ctx.get('authorization') || undefined,
      body: ctx.method === 'POST' ? ctx.state.params : undefined,
      query: new URLSearchParams(ctx.querystring),
    });
    let verified;
    try {
      verified = await verifyIssuedAccessToken(presented.token, deps);
    } catch (err) {
      if (err instanceof AccessTokenRejected) {
        ctx.state.log.debug({ reason: err.reason }, 'userinfo: access token rejected');
        const description = 'The access token is invalid, expired or revoked';
        throw presented.scheme === 'DPoP'
          ? dpopError('invalid_token', 401, description, undefined, err)
          : invalidTokenError(description, err);
      }
      throw err;
    }
    const { claims, user } = verified;
    const { nextNonce } = await checkSenderConstraint(dpop, presented, claims.jkt, {
      values: dpopHeaderValues(ctx.req),
      method: ctx.method,
      url: `${deps.issuer}${ctx.path}`,
    });
    if (nextNonce) ctx.set('DPoP-Nonce', nextNonce);
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
  ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce');
}

/** OPTIONS /userinfo: the CORS preflight for `Authorization` and form posts. */
export function userinfoPreflight(): Middleware<AppState> {
  return (ctx) => {
    allowCors(ctx);
    ctx.set('Access-Control-Allow-Methods', 'GET, POST');
    ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, DPoP');
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
  };
}
