/**
 * createApp(services): the Koa application — global middleware in order, then the routes.
 * Logging of failures happens in one place (the error middleware); nothing else logs errors.
 */
import Koa from 'koa';
import { unreadBodyGuard } from './http/middleware/body';
import { errorHandler } from './http/middleware/errors';
import { requestMetrics } from './http/middleware/metrics';
import { requestContext } from './http/middleware/request-context';
import { jwks, JWKS_PATH } from './http/endpoints/jwks';
import { NotFound, MethodNotAllowed } from './oauth/errors';
import { buildRouter } from './http/routes';
import type { AppState } from './http/types';
import type { Services } from './services';

export function createApp(services: Services): Koa<AppState> {
  const { config, log } = services;
  const app = new Koa<AppState>({ proxy: config.TRUST_PROXY });
  app.silent = true; // errors are logged by errorHandler, with the request id

  app.use(requestContext({ log, https: config.issuer.startsWith('https:') }));
  app.use(unreadBodyGuard());
  app.use(requestMetrics());
  // GET /.well-known/jwks.json is the most frequently polled endpoint and cannot fail: it is
  // answered before the error handler and the router (the route table keeps it too, for 405s).
  const jwksHandler = jwks(services.keyStore, config.JWKS_MAX_AGE);
  app.use((ctx, next) => ((ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.path === JWKS_PATH ? jwksHandler(ctx, next) : next()));
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
