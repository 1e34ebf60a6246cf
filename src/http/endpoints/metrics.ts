/**
 * GET /metrics: Prometheus text format. When METRICS_TOKEN is set the scraper must send
 * `Authorization: Bearer <token>` (compared in constant time); otherwise the endpoint is open
 * and should be reachable only from the monitoring network.
 */
import type { Middleware } from 'koa';
import { InvalidToken } from '../../oauth/errors';
import { registry, renderMetrics } from '../../observability/metrics';
import type { Services } from '../../services';
import { constantTimeEqual } from '../../shared/crypto';
import type { AppState } from '../types';

export function metricsEndpoint(
  services: Pick<Services, 'config' | 'keyStore' | 'db' | 'clock'>,
): Middleware<AppState> {
  const { METRICS_TOKEN: token, SIGNING_ALGS: algs } = services.config;
  return async (ctx) => {
    if (token !== undefined) {
      const match = /^Bearer ([^\s]+)$/.exec(ctx.get('authorization'));
      // RFC 6750 §3: a missing or wrong token is 401 with a WWW-Authenticate challenge.
      if (!match || !constantTimeEqual(match[1]!, token)) {
        throw new InvalidToken('A valid metrics token is required', {
          headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
        });
      }
    }
    const body = await renderMetrics({
      activeKeyActivations: () =>
        algs.flatMap((alg) => {
          const activatedAt = services.keyStore.activeSince(alg);
          return activatedAt ? [{ alg, activatedAt }] : [];
        }),
      poolStats: () => services.db.poolStats?.(),
      now: () => services.clock.now(),
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.type = registry.contentType;
    ctx.body = body;
  };
}
