/**
 * Records every request's count and latency by method, route template (never the raw path:
 * unbounded label values would exhaust the metrics store) and status.
 */
import type { Middleware } from 'koa';
import { metrics } from '../../observability/metrics';
import type { AppState } from '../types';

export function requestMetrics(): Middleware<AppState> {
  return async (ctx, next) => {
    const end = metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      const labels = { method: ctx.method, route: routeLabel(ctx), status: String(ctx.status) };
      end(labels);
      metrics.httpRequests.inc(labels);
    }
  };
}

/** The route template (`/token`), the path of a route answered outside the router (405, JWKS), or `unmatched`. */
function routeLabel(ctx: { _matchedRoute?: unknown; status: number; path: string }): string {
  if (ctx._matchedRoute !== undefined) return String(ctx._matchedRoute);
  return ctx.status === 404 ? 'unmatched' : ctx.path;
}
