/**
 * createApp(services): the Koa application — global middleware in order, then the routes.
 * Logging of failures happens in one place (the error middleware); nothing else logs errors.
 */
import Koa from 'koa';
import { errorHandler } from './http/middleware/errors';
import { securityHeaders } from './http/middleware/headers';
import { requestId } from './http/middleware/request-id';
import { NotFound, MethodNotAllowed } from './oauth/errors';
import { buildRouter } from './http/routes';
import type { AppState } from './http/types';
import type { Services } from './services';

export function createApp(services: Services): Koa<AppState> {
  const { config, log } = services;
  const app = new Koa<AppState>({ proxy: config.TRUST_PROXY });
  app.silent = true; // errors are logged by errorHandler, with the request id

  app.use(requestId());
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    ctx.state.log = log.child({ requestId: ctx.state.requestId });
    await next();
    if (log.isLevelEnabled('debug')) {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      ctx.state.log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
    }
  });
  app.use(securityHeaders({ https: config.issuer.startsWith('https:') }));
  app.use(errorHandler());

  const router = buildRouter(services);
  app.use(router.routes());
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      const allowed = router.stack.filter((l) => l.match(ctx.path) && l.methods.length).flatMap((l) => l.methods);
      if (allowed.length) {
        ctx.set('Allow', [...new Set(allowed)].join(', '));
        throw new MethodNotAllowed(`Method ${ctx.method} is not allowed here`);
      }
      throw new NotFound('No such endpoint');
    }
  });

  return app;
}
