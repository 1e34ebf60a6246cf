/**
 * Records every request's count and latency by method, route template (never the raw path:
 * unbounded label values would exhaust the metrics store) and status.
 */
import type { Middleware } from 'koa';
import { httpRequestMetrics } from '../../observability/metrics';
import type { AppState } from '../types';

export function requestMetrics(): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      httpRequestMetrics.record(
        ctx.method,
        routeLabel(ctx),
        ctx.status,
        (performance.now() - started) / 1000,
      );
    }
  };
}

/** The route template (`/token`), the path of a route answered outside the router (405, JWKS), or `unmatched`. */
function routeLabel(ctx: {
  _matchedRoute?: string | RegExp;
  status: number;
  path: string;
}): string {
  if (ctx._matchedRoute !== undefined) return String(ctx._matchedRoute);
  return ctx.status === 404 ? 'unmatched' : ctx.path;
}
