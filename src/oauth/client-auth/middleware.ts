/**
 * Koa middleware that authenticates the client of a request (see authenticate.ts) and puts
 * the client record on `ctx.state.client` (and the method on `ctx.state.clientAuthMethod`).
 * Runs after parseParams(), which fills `ctx.state.params`.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../../http/types';
import { authenticateClientWithMethod, type ClientAuthDeps } from './authenticate';

export function clientAuthentication(deps: ClientAuthDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const { client, method } = await authenticateClientWithMethod(
      { authorization: ctx.get('authorization') || undefined, params: ctx.state.params ?? {} },
      deps,
    );
    ctx.state.client = client;
    ctx.state.clientAuthMethod = method;
    await next();
  };
}
