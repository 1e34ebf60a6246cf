/**
 * Koa middleware that authenticates the client of a request (see authenticate.ts) and puts
 * the client record on `ctx.state.client` (and the method on `ctx.state.clientAuthMethod`).
 * Runs after parseParams(), which fills `ctx.state.params`.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../../http/types';
import type { Services } from '../../services';
import { authenticateClientWithMethod, type ClientAuthDeps } from './authenticate';

export function clientAuthentication(deps: ClientAuthDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const { client, method } = await authenticateClientWithMethod(
      {
        authorization: ctx.get('authorization') || undefined,
        params: ctx.state.params ?? {},
        // The endpoint's public URL, under the issuer as discovery lists it (RFC 7523 §3 item 3).
        ...(deps.assertions ? { endpointUrl: `${deps.assertions.issuer}${ctx.path}` } : {}),
      },
      deps,
    );
    ctx.state.client = client;
    ctx.state.clientAuthMethod = method;
    await next();
  };
}

/** Every endpoint's client authentication: the cached client look-up, and assertion checks. */
export function clientAuthDeps(
  services: Pick<
    Services,
    'config' | 'clientLookup' | 'clientKeys' | 'clock' | 'usedJtis' | 'keks'
  >,
): ClientAuthDeps {
  const { config } = services;
  return {
    clients: services.clientLookup,
    assertions: {
      issuer: config.issuer,
      tokenEndpoint: `${config.issuer}/token`,
      clock: services.clock,
      usedJtis: services.usedJtis,
      clientKeys: services.clientKeys,
      keks: services.keks,
      maxLifetimeSeconds: config.CLIENT_ASSERTION_MAX_LIFETIME,
      clockSkewSeconds: config.CLOCK_SKEW,
    },
  };
}
