/**
 * The hand-rolled HTTP request metrics render exactly what prom-client renders for the same
 * observations (same names, labels, buckets, sums and counts), so scrapers and dashboards see
 * no difference.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { HttpRequestMetrics } from '../../src/observability/http-metrics';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

async function promClientRendering(
  observations: Array<[string, string, number, number]>,
): Promise<string> {
  const registry = new Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'tessera_http_requests_total',
    help: 'HTTP requests by method, route template and status code.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status code.',
    labelNames,
    buckets: BUCKETS,
    registers: [registry],
  });
  for (const [method, route, status, seconds] of observations) {
    const labels = { method, route, status: String(status) };
    duration.observe(labels, seconds);
    requests.inc(labels);
  }
  return registry.metrics();
}

describe('HttpRequestMetrics', () => {
  it('renders counter and histogram as prom-client does, bucket edges and +Inf included', async () => {
    const observations: Array<[string, string, number, number]> = [
      ['POST', '/token', 200, 0.0004],
      ['POST', '/token', 200, 0.001], // on a bucket's edge: counted in it (le is ≤)
      ['POST', '/token', 200, 0.03],
      ['GET', '/.well-known/jwks.json', 200, 0.0002],
      ['POST', '/token', 400, 7], // beyond the last bucket: only +Inf
      ['GET', 'unmatched', 404, 0.0031],
      ['GET', '/a"b\\c\nd', 405, 0.2], // escaped like prom-client
    ];
    const ours = new HttpRequestMetrics();
    for (const [method, route, status, seconds] of observations)
      ours.record(method, route, status, seconds);
    expect(ours.render().trim()).toBe((await promClientRendering(observations)).trim());
  });

  it('renders nothing before the first request', () => {
    expect(new HttpRequestMetrics().render()).toBe('');
  });
});
