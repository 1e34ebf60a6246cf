/**
 * createApp(services): the Koa application — global middleware in order, then the routes.
 * Logging of failures happens in one place (the error middleware); nothing else logs errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import { unreadBodyGuard } from './http/middleware/body';
import { errorHandler } from './http/middleware/errors';
import { requestMetrics } from './http/middleware/metrics';
import { requestContext } from './http/middleware/request-context';
import { jwksFastPath } from './http/endpoints/jwks';
import { securityHeaderList } from './http/middleware/headers';
import { NotFound, MethodNotAllowed } from './oauth/errors';
import { buildRouter } from './http/routes';
import type { AppState } from './http/types';
import type { Services } from './services';

export function createApp(services: Services): Koa<AppState> {
  const { config, log } = services;
  // Behind TRUST_PROXY_HOPS appending proxies only the right-most that many X-Forwarded-For
  // entries are theirs; anything to the left is whatever the client sent, so Koa takes ctx.ip
  // from the last TRUST_PROXY_HOPS entries (maxIpsCount) and never from the client's part.
  const app = new Koa<AppState>({
    proxy: config.TRUST_PROXY,
    maxIpsCount: config.TRUST_PROXY ? config.TRUST_PROXY_HOPS : 0,
  });
  app.silent = true; // errors are logged by errorHandler, with the request id

  app.use(requestContext({ log, https: config.issuer.startsWith('https:') }));
  app.use(unreadBodyGuard());
  app.use(requestMetrics());
  app.use(errorHandler());

  const router = buildRouter(services);
  app.use(router.routes());
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      const allowed = router.stack
        .filter((l) => l.match(ctx.path) && l.methods.length)
        .flatMap((l) => l.methods);
      if (allowed.length) {
        ctx.set('Allow', [...new Set(allowed)].join(', '));
        throw new MethodNotAllowed(`Method ${ctx.method} is not allowed here`);
      }
      throw new NotFound('No such endpoint');
    }
  });

  return app;
}

/**
 * The HTTP server's request listener: the JWKS fast path (see endpoints/jwks.ts), then Koa.
 * Tests that need only the Koa application use createApp.
 */
export function requestListener(
  services: Services,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, log } = services;
  const koa = createApp(services).callback();
  const jwks = jwksFastPath(services.keyStore, config.JWKS_MAX_AGE, {
    log,
    securityHeaders: securityHeaderList({ https: config.issuer.startsWith('https:') }),
  });
  return (req, res) => {
    if (!jwks(req, res)) void koa(req, res);
  };
}
