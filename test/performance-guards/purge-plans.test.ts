/**
 * Guards: every purge step reaches the rows it deletes through an index, on tables loaded to
 * 100,000 rows each, so the purge's cost follows what it deletes, not the size of the tables.
 * (Families and sessions used to be purged with `expires_at < $1 OR revoked_at < $2`, which
 * no index answers: each batch scanned the whole table.) The machine's PostgreSQL may run
 * without autovacuum, so the test ANALYZEs what it loaded.
 */
import { purgeSteps } from '../../src/observability/purge';
import { loadConfig } from '../../src/config';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/database';
import { testServerEnv } from '../support/server';

const ROWS = 100_000;
/** Tables loaded here; the others stay small, where a scan is the right plan. */
const LOADED = [
  'authorization_codes',
  'refresh_token_families',
  'revoked_access_tokens',
  'used_jtis',
  'browser_sessions',
  'login_throttles',
  'audit_events',
];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

describeOnPostgres('purge-plans')('purge plans at 100,000 rows per table', () => {
  let database: TestDatabase;
  const sql = (text: string, values: unknown[] = []) =>
    database.db.sql.query<Record<string, unknown>>('purge_plan_setup', text, values, {
      planEachRun: true,
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    // Live rows, as a running server has them: nothing here is due for deletion.
    await sql(`INSERT INTO users (id, email, password_hash)
      SELECT gen_random_uuid(), 'u' || n || '@bulk.example', 'x' FROM generate_series(1, 1000) n`);
    await sql(`INSERT INTO clients (id, name) VALUES ('bulk-client', 'Bulk')`);
    const later = `now() + interval '1 day' + n * interval '1 second'`;
    const user = `(SELECT id FROM users ORDER BY email LIMIT 1)`;
    await sql(
      `INSERT INTO refresh_token_families (id, client_id, user_id, scope, auth_time, expires_at)
      SELECT gen_random_uuid(), 'bulk-client', ${user}, 'openid', now(), ${later}
        FROM generate_series(1, $1::int) n`,
      [ROWS],
    );
    await sql(
      `INSERT INTO browser_sessions (id, secret_hash, user_id, auth_time, expires_at)
      SELECT gen_random_uuid(), md5(n::text), ${user}, now(), ${later}
        FROM generate_series(1, $1::int) n`,
      [ROWS],
    );
    await sql(
      `INSERT INTO authorization_codes (id, code_hash, client_id, user_id, redirect_uri, scope, auth_time, expires_at)
      SELECT gen_random_uuid(), md5(n::text), 'bulk-client', ${user}, 'https://a.example/cb', 'openid', now(), ${later}
        FROM generate_series(1, $1::int) n`,
      [ROWS],
    );
    await sql(
      `INSERT INTO revoked_access_tokens (jti, expires_at)
      SELECT md5(n::text), ${later} FROM generate_series(1, $1::int) n`,
      [ROWS],
    );
    await sql(
      `INSERT INTO used_jtis (kind, key_hash, expires_at)
      SELECT 'dpop_proof', md5(n::text), ${later} FROM generate_series(1, $1::int) n`,
      [ROWS],
    );
    await sql(
      `INSERT INTO login_throttles (key, failures, first_failure, last_failure)
      SELECT 'k' || n, 1, now(), now() FROM generate_series(1, $1::int) n`,
      [ROWS],
    );
    await sql(
      `INSERT INTO audit_events (type, at)
      SELECT 'login.success', now() - n * interval '1 second' FROM generate_series(1, $1::int) n`,
      [ROWS],
    );
    await sql('ANALYZE');
  }, 120_000);
  afterAll(() => database?.drop());

  it('has a step for every loaded table', () => {
    const config = loadConfig(testServerEnv(0, '/tmp'));
    const tables = new Set(purgeSteps({ config }).map((s) => s.table));
    for (const table of LOADED) expect(tables).toContain(table);
  });

  it('plans no step as a scan of a loaded table', async () => {
    const config = loadConfig(testServerEnv(0, '/tmp'));
    const scans: string[] = [];
    for (const step of purgeSteps({ config })) {
      const { text, values } = step.sql(new Date());
      const rows = await sql(`EXPLAIN (FORMAT JSON) ${text}`, values);
      const [{ Plan }] = rows[0]!['QUERY PLAN'] as [{ Plan: PlanNode }];
      for (const node of nodes(Plan))
        if (node['Node Type'] === 'Seq Scan' && LOADED.includes(node['Relation Name'] ?? ''))
          scans.push(`${step.table}: ${text}`);
    }
    expect(scans).toEqual([]);
  });
});
