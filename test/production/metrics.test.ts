/**
 * GET /metrics (issue 7): Prometheus text with request counts and latency by route and
 * status, tokens issued by grant and algorithm, login failures and lockouts, refresh reuse,
 * active key age, pool use and event-loop lag; behind METRICS_TOKEN when it is set.
 */
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, PASSWORD, token, type TestClient } from '../support/fixtures';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let server: TestServer;
let app: TestClient;

beforeAll(async () => {
  server = await startTestServer({
    env: { METRICS_TOKEN, LOGIN_MAX_FAILURES: '2', REFRESH_REUSE_GRACE_SECONDS: '0' },
  });
  app = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${server.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample line (`name{labels} value`), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('GET /metrics', () => {
  it.each([
    ['no credentials', {}],
    ['a wrong token', { authorization: 'Bearer not-the-metrics-token-at-all' }],
    [
      'Basic auth',
      { authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}` },
    ],
  ])('refuses %s with 401 invalid_token when METRICS_TOKEN is set', async (_name, headers) => {
    const res = await fetch(`${server.url}/metrics`, { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await res.json()).error).toBe('invalid_token');
  });

  it('counts requests, issued tokens, login failures, lockouts and refresh reuse', async () => {
    const before = await scrape();
    const user = await makeUser(server);
    const ok = await token(server, app, {
      grant_type: 'password',
      username: user.email,
      password: PASSWORD,
      scope: 'openid offline_access',
    });
    expect(ok.status).toBe(200);
    const r0 = ok.body.refresh_token as string;
    expect(
      (await token(server, app, { grant_type: 'refresh_token', refresh_token: r0 })).status,
    ).toBe(200);
    server.clock.advance(2);
    expect(
      (await token(server, app, { grant_type: 'refresh_token', refresh_token: r0 })).body.error,
    ).toBe('invalid_grant'); // reuse
    const victim = await makeUser(server);
    for (let i = 0; i < 2; i++)
      await token(server, app, {
        grant_type: 'password',
        username: victim.email,
        password: 'wrong',
        scope: 'openid',
      });

    const after = await scrape();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('tessera_tokens_issued_total{grant="password",alg="RS256"}')).toBe(1);
    expect(delta('tessera_tokens_issued_total{grant="refresh_token",alg="RS256"}')).toBe(1);
    expect(delta('tessera_http_requests_total{method="POST",route="/token",status="200"}')).toBe(2);
    expect(delta('tessera_http_requests_total{method="POST",route="/token",status="400"}')).toBe(3);
    expect(
      delta(
        'tessera_http_request_duration_seconds_count{method="POST",route="/token",status="200"}',
      ),
    ).toBe(2);
    expect(delta('tessera_login_failures_total')).toBe(2);
    expect(delta('tessera_login_lockouts_total{scope="account"}')).toBe(1);
    expect(delta('tessera_refresh_token_reuse_total')).toBe(1);
  });

  it('reports key age, event-loop lag and process metrics; unknown paths share one label', async () => {
    await fetch(`${server.url}/no/such/path/${Math.random()}`);
    const text = await scrape();
    expect(
      sample(text, 'tessera_signing_key_active_age_seconds{alg="RS256"}'),
    ).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^tessera_signing_key_active_age_seconds\{alg="ES256"\} \d/m);
    expect(text).toMatch(/^tessera_nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^tessera_process_resident_memory_bytes \d/m);
    expect(text).toMatch(
      /tessera_http_requests_total\{method="GET",route="unmatched",status="404"\} \d/,
    );
    expect(text).not.toMatch(/no\/such\/path/);
    if (server.database.url)
      expect(text).toMatch(/^tessera_db_pool_connections\{state="total"\} \d/m);
  });
});
