/**
 * POST /token (RFC 6749 §3.2) and POST /refresh: one pipeline for both —
 * no-store headers → parse parameters (form or JSON, size-limited, no repeats but RFC 8707's
 * `resource` and RFC 8693's `audience`) → authenticate the client → check its DPoP proof, if any (RFC 9449 §5,
 * oauth/dpop/token-request.ts) → dispatch to the grant module named by grant_type
 * (oauth/grants/index.ts).
 * /refresh is the refresh_token grant with grant_type implied.
 */
import type { Middleware } from 'koa';
import { clientAuthDeps, clientAuthentication } from '../../oauth/client-auth/middleware';
import { dpopHeaderValues, type DpopProofs } from '../../oauth/dpop/proofs';
import { tokenRequestProof } from '../../oauth/dpop/token-request';
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../oauth/errors';
import { GRANTS } from '../../oauth/grants';
import { EXCHANGE_REPEATABLE_PARAMS } from '../../oauth/grants/token-exchange';
import { validateParams } from '../../oauth/params';
import { REPEATABLE_PARAMS } from '../../oauth/resources';
import type { Services } from '../../services';
import { parseParams } from '../middleware/body';
import { noStore } from '../middleware/headers';
import type { AppState } from '../types';
import { metrics } from '../../observability/metrics';

export interface TokenEndpointOptions {
  /** Grant type implied by the endpoint (/refresh: refresh_token). */
  impliedGrant?: 'refresh_token';
}

/** The full middleware pipeline of /token (or /refresh). */
export function tokenPipeline(
  services: Services,
  dpop: DpopProofs,
  options: TokenEndpointOptions = {},
): Middleware<AppState>[] {
  return [
    noStore(),
    parseParams({
      limitBytes: services.config.BODY_LIMIT_BYTES,
      json: true,
      repeatable: [...REPEATABLE_PARAMS, ...EXCHANGE_REPEATABLE_PARAMS],
    }),
    clientAuthentication(clientAuthDeps(services)),
    dpopProof(services, dpop),
    dispatchGrant(services, options),
  ];
}

/**
 * Verifies the request's DPoP proof (if any) and leaves its key's thumbprint on the state; also
 * the pushed authorization request endpoint's step (RFC 9449 §10.1).
 */
export function dpopProof(
  services: Services,
  dpop: DpopProofs,
  options: { optional?: boolean } = {},
): Middleware<AppState> {
  // `optional`: even a client registered with dpop_bound_access_tokens may leave it out (at
  // /par it may name its key with dpop_jkt instead; §5.2 is about the token endpoint).
  const unbound = { dpopBoundAccessTokens: false };
  return async (ctx, next) => {
    const proof = await tokenRequestProof(dpop, options.optional ? unbound : ctx.state.client!, {
      values: dpopHeaderValues(ctx.req),
      method: ctx.method,
      // §4.3 item 9: the URL the client addressed, i.e. this endpoint under the issuer.
      url: `${services.config.issuer}${ctx.path}`,
    });
    if (proof.nextNonce) ctx.set('DPoP-Nonce', proof.nextNonce);
    ctx.state.dpopJkt = proof.jkt;
    await next();
  };
}

function dispatchGrant(services: Services, options: TokenEndpointOptions): Middleware<AppState> {
  return async (ctx) => {
    const params = ctx.state.params ?? {};
    const client = ctx.state.client;
    if (!client) throw new Error('client authentication did not run');
    let grantType = params.grant_type;
    if (options.impliedGrant) {
      if (grantType !== undefined && grantType !== options.impliedGrant)
        throw new InvalidRequest(`This endpoint only accepts grant_type=${options.impliedGrant}`);
      grantType = options.impliedGrant;
    }
    if (grantType === undefined || grantType === '')
      throw new InvalidRequest('grant_type is required');
    const grant = GRANTS.get(grantType);
    if (!grant) throw new UnsupportedGrantType('The grant type is not supported');
    // RFC 6749 §5.2 unauthorized_client: the grant exists but this client may not use it.
    if (!client.grantTypes.includes(grant.grantType))
      throw new UnauthorizedClient('The client is not allowed to use this grant type');
    const valid = validateParams(grant.params, params, ctx.state.paramLists);
    const state = ctx.state;
    // `log` stays lazy: the request's child logger is built only if a grant logs, so a request
    // that logs nothing pays nothing for it.
    ctx.body = await grant.handle(valid, {
      services,
      client,
      ip: ctx.ip,
      requestId: state.requestId,
      dpopJkt: state.dpopJkt,
      get log() {
        return state.log;
      },
    });
    metrics.tokensIssued.inc({
      grant: grant.grantType,
      alg: client.signingAlg ?? services.config.DEFAULT_SIGNING_ALG,
    });
  };
}
