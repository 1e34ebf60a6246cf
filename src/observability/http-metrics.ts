/**
 * The per-request HTTP metrics — tessera_http_requests_total (counter) and
 * tessera_http_request_duration_seconds (histogram), by method, route template and status —
 * kept outside prom-client and rendered in the Prometheus text format at scrape time.
 *
 * Every request records one observation, so this is on the hottest path there is: prom-client
 * validates and hashes the label object on every observe() and inc() (and its startTimer
 * copies it again). Here a request costs one Map look-up by a joined key, a bucket search and
 * three additions. A performance bypass (docs/performance.md): the exposition must stay the
 * same as prom-client's for these two metrics.
 */

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

interface Series {
  /** `method="…",route="…",status="…"`, escaped. */
  labels: string;
  /** Observations per bucket (not cumulative); the last slot is +Inf only. */
  counts: number[];
  sum: number;
  count: number;
}

/** Label values in the text format: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class HttpRequestMetrics {
  private readonly series = new Map<string, Series>();

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        labels: `method="${escapeLabel(method)}",route="${escapeLabel(route)}",status="${status}"`,
        counts: new Array<number>(BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }

  /** Both metrics in the Prometheus text exposition format (empty before the first request). */
  render(): string {
    if (this.series.size === 0) return '';
    const all = [...this.series.values()];
    const lines = [
      '# HELP tessera_http_requests_total HTTP requests by method, route template and status code.',
      '# TYPE tessera_http_requests_total counter',
    ];
    for (const s of all) lines.push(`tessera_http_requests_total{${s.labels}} ${s.count}`);
    lines.push(
      '',
      '# HELP tessera_http_request_duration_seconds HTTP request latency by method, route template and status code.',
      '# TYPE tessera_http_request_duration_seconds histogram',
    );
    for (const s of all) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.counts[i]!;
        lines.push(
          `tessera_http_request_duration_seconds_bucket{le="${le}",${s.labels}} ${cumulative}`,
        );
      });
      lines.push(`tessera_http_request_duration_seconds_bucket{le="+Inf",${s.labels}} ${s.count}`);
      lines.push(`tessera_http_request_duration_seconds_sum{${s.labels}} ${s.sum}`);
      lines.push(`tessera_http_request_duration_seconds_count{${s.labels}} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
