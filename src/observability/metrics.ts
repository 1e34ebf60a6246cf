/**
 * Prometheus metrics (prom-client). One registry per process; other modules record facts
 * through the `metrics` object, e.g. `metrics.tokensIssued.inc({ grant, alg })`. Labels are
 * bounded sets (route templates, status codes, grant names, algorithms) — never a user, a
 * client id or a raw path, which would grow without limit.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
// Process metrics, including nodejs_eventloop_lag_seconds (event-loop lag) and heap use.
collectDefaultMetrics({ register: registry, prefix: 'tessera_', eventLoopMonitoringPrecision: 20 });

const httpLabels = ['method', 'route', 'status'] as const;
const httpRequests = new Counter({
  name: 'tessera_http_requests_total',
  help: 'HTTP requests by method, route template and status code.',
  labelNames: httpLabels,
  registers: [registry],
});
const httpRequestDuration = new Histogram({
  name: 'tessera_http_request_duration_seconds',
  help: 'HTTP request latency by method, route template and status code.',
  labelNames: httpLabels,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

/** Every answered request, by method, route template (never the raw path) and status. */
export const httpRequestMetrics = {
  record(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    httpRequests.inc(labels);
    httpRequestDuration.observe(labels, seconds);
  },
};

export const metrics = {
  tokensIssued: new Counter({
    name: 'tessera_tokens_issued_total',
    help: 'Access tokens issued, by grant type and signing algorithm.',
    labelNames: ['grant', 'alg'] as const,
    registers: [registry],
  }),
  loginFailures: new Counter({
    name: 'tessera_login_failures_total',
    help: 'Failed password logins.',
    registers: [registry],
  }),
  lockouts: new Counter({
    name: 'tessera_login_lockouts_total',
    help: 'Login backoffs started, by what was blocked (account or ip).',
    labelNames: ['scope'] as const,
    registers: [registry],
  }),
  refreshReuse: new Counter({
    name: 'tessera_refresh_token_reuse_total',
    help: 'Refresh-token reuse detections that revoked a family.',
    registers: [registry],
  }),
  refreshRetries: new Counter({
    name: 'tessera_refresh_token_retries_total',
    help: 'Refresh requests inside the retry window answered with the successor an earlier rotation issued.',
    registers: [registry],
  }),
  activeKeyAge: new Gauge({
    name: 'tessera_signing_key_active_age_seconds',
    help: 'Seconds since the active signing key of each algorithm was activated.',
    labelNames: ['alg'] as const,
    registers: [registry],
  }),
  dbPool: new Gauge({
    name: 'tessera_db_pool_connections',
    help: 'Database pool connections by state (total, idle, waiting requests).',
    labelNames: ['state'] as const,
    registers: [registry],
  }),
  backchannelLogouts: new Counter({
    name: 'tessera_backchannel_logout_deliveries_total',
    help: 'Back-channel logout token deliveries by outcome: delivered, retried (a failed attempt to be repeated), rejected (the relying party answered 400, or its URI is not allowed), expired (given up).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  purged: new Counter({
    name: 'tessera_purged_rows_total',
    help: 'Rows deleted by the purge job, by table.',
    labelNames: ['table'] as const,
    registers: [registry],
  }),
};

/** Values read at scrape time rather than pushed (key ages, pool use). */
export interface ScrapeSources {
  activeKeyActivations(): { alg: string; activatedAt: Date }[];
  poolStats?(): { total: number; idle: number; waiting: number } | undefined;
  now(): Date;
}

/** Refreshes the scrape-time gauges, then renders the registry in the Prometheus text format. */
export async function renderMetrics(sources: ScrapeSources): Promise<string> {
  metrics.activeKeyAge.reset();
  const now = sources.now().getTime();
  for (const { alg, activatedAt } of sources.activeKeyActivations()) {
    metrics.activeKeyAge.set({ alg }, Math.max(0, (now - activatedAt.getTime()) / 1000));
  }
  const pool = sources.poolStats?.();
  if (pool) {
    metrics.dbPool.set({ state: 'total' }, pool.total);
    metrics.dbPool.set({ state: 'idle' }, pool.idle);
    metrics.dbPool.set({ state: 'waiting' }, pool.waiting);
  }
  return registry.metrics();
}
