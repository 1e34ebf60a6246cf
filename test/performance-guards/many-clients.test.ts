/**
 * Guards: with 100,000 registered clients the server starts, rotates keys and answers CORS as
 * with a handful. Start-up and rotation take the longest token lifetime any client sets from
 * one aggregate (spreading every client's two values into Math.max overflowed the stack from
 * about 62,000 clients); the CORS check asks the GIN index of the clients' redirect origins for
 * one origin at a time (reading every client when a cache expired took seconds at this size and
 * exhausted the pool).
 */
import { rotationPolicy } from '../../src/keys/key-rotation';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/database';
import { makeClient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

const CLIENTS = 100_000;

/** Median milliseconds of `n` CORS preflights, `concurrency` at a time, from `origins`. */
async function preflightMedianMs(
  server: TestServer,
  origins: readonly string[],
  concurrency = 8,
): Promise<number> {
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < origins.length) {
      const origin = origins[next++]!;
      const started = performance.now();
      const res = await fetch(`${server.url}/token`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      await res.arrayBuffer();
      expect(res.status).toBe(204);
      times.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

describeOnPostgres('many-clients')(`${CLIENTS.toLocaleString('en')} clients`, () => {
  let database: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One client in 1,000 overrides its token lifetimes; client 77,777 has the longest.
    await database.db.sql.query(
      'bulk_clients',
      `INSERT INTO clients (id, name, redirect_uris, redirect_origins, grant_types, scopes,
                            access_token_ttl, id_token_ttl)
       SELECT 'bulk-' || n, 'Bulk ' || n,
              ARRAY['https://app-' || n || '.example/cb'], ARRAY['https://app-' || n || '.example'],
              ARRAY['authorization_code'], ARRAY['openid'],
              CASE WHEN n % 1000 = 0 THEN 600 END,
              CASE WHEN n = 77777 THEN 86400 WHEN n % 1000 = 0 THEN 1200 END
         FROM generate_series(1, $1::int) AS n`,
      [CLIENTS],
    );
    await database.db.sql.query('analyze_clients', 'ANALYZE clients', []);
    server = await startTestServer({ database });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('starts, and takes the longest token lifetime any client sets into the rotation policy', async () => {
    const policy = await rotationPolicy(server.services);
    const { config } = server;
    expect(policy.retireWaitSeconds).toBe(86_400 + config.CLOCK_SKEW + config.KEY_REFRESH_INTERVAL);
  });

  it('allows the origin of any enabled client and no other', async () => {
    const allowed = await fetch(`${server.url}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app-73456.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app-73456.example');
    const unknown = await fetch(`${server.url}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app-0.example', 'access-control-request-method': 'POST' },
    });
    expect(unknown.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('looks an origin up through the index, never by reading the clients', async () => {
    const [plan] = await database.db.sql.query<{ 'QUERY PLAN': unknown }>(
      'explain_origin',
      `EXPLAIN (FORMAT JSON) SELECT count(*)::int AS n FROM clients
        WHERE redirect_origins @> ARRAY[$1]::text[] AND NOT disabled`,
      ['https://app-5.example'],
    );
    const text = JSON.stringify(plan!['QUERY PLAN']);
    expect(text).toContain('clients_redirect_origins_idx');
    expect(text).not.toContain('"Seq Scan"');
  });

  it('answers CORS as fast as a server with a handful of clients', async () => {
    const origins = Array.from({ length: 400 }, (_, i) => `https://app-${i * 211 + 7}.example`);
    const small = await startTestServer();
    try {
      for (let i = 0; i < 5; i++)
        await makeClient(small, { redirectUris: [`https://app-${i * 211 + 7}.example/cb`] });
      await preflightMedianMs(small, origins.slice(0, 40)); // warm-up
      await preflightMedianMs(server, origins.slice(0, 40));
      const few = await preflightMedianMs(small, origins.slice(40));
      const many = await preflightMedianMs(server, origins.slice(40));
      // An index look-up per new origin is a fraction of a request's own cost at any size; the
      // bound is loose so that machine noise cannot fail it, while a scan (seconds) would.
      expect(many).toBeLessThan(few * 3 + 5);
    } finally {
      await small.stop();
    }
  });
});
