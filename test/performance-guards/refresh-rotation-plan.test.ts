/**
 * Guards: the refresh rotation's EXPLAIN plan reaches families by key, never by a scan.
 *
 * The refresh rotation statement reaches each family by its primary key. (Joined to the
 * looked-up token in a CTE instead, PostgreSQL planned a scan of every family per refresh: a
 * cost that grows with the number of logins ever made.) Checked on a small database, where
 * that join form shows the scan, and on a larger one, where no table may be scanned at all.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { SqlExecutor } from '../../src/db/database';
import { PrismaRefreshTokenRepository } from '../../src/persistence/postgres/refresh-tokens';
import { PrismaUserRepository } from '../../src/persistence/postgres/users';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/database';

const onPostgres = describeOnPostgres('refresh-rotation-plan');

const later = new Date(Date.now() + 3_600_000);

/**
 * A database with `families` logins of one user (and `otherUsers` more users), one rotation
 * run through the repository, and the rotation statement's text as it ran.
 */
async function rotationDatabase(
  families: number,
  otherUsers: number,
): Promise<{ t: TestDatabase; text: string }> {
  const t = await createTestDatabase();
  let text = '';
  const capturing: SqlExecutor = {
    query(name, sql, values, options) {
      if (name === 'refresh_rotate_batch') text = sql;
      return t.db.sql.query(name, sql, values, options);
    },
  };
  const repo = new PrismaRefreshTokenRepository(t.db.prisma, capturing);
  const user = await new PrismaUserRepository(t.db.prisma, t.db.sql).create({
    email: `${randomUUID()}@example.com`,
    passwordHash: 'x',
  });
  await t.db.prisma.client.create({ data: { id: 'plan-client', name: 'plan' } });
  await t.db.prisma
    .$executeRaw`INSERT INTO users (id, email, password_hash, updated_at) SELECT gen_random_uuid(), 'u' || n || '@example.com', 'x', now() FROM generate_series(1, ${otherUsers}::int) AS n`;
  await t.db.prisma.$executeRaw`
    WITH f AS (
      INSERT INTO refresh_token_families (id, client_id, user_id, scope, auth_time, amr, expires_at)
      SELECT gen_random_uuid(), 'plan-client', ${user.id}::uuid, 'openid', now(), '{pwd}', ${later} FROM generate_series(1, ${families}::int)
      RETURNING id)
    INSERT INTO refresh_tokens (id, family_id, token_hash, scope, idle_expires_at)
    SELECT gen_random_uuid(), f.id, gen_random_uuid()::text, 'openid', ${later} FROM f`;
  const hash = randomUUID();
  await repo.createFamily(
    {
      clientId: 'plan-client',
      userId: user.id,
      scope: 'openid',
      authTime: new Date(),
      amr: ['pwd'],
      expiresAt: later,
    },
    {
      tokenHash: hash,
      scope: 'openid',
      accessTokenJti: randomUUID(),
      accessTokenExpiresAt: later,
      idleExpiresAt: later,
    },
  );
  expect(
    await repo.rotateRefreshToken(hash, 'plan-client', new Date(), {
      id: randomUUID(),
      tokenHash: randomUUID(),
      accessTokenJti: randomUUID(),
      accessTokenExpiresAt: later,
      idleExpiresAt: later,
      retrySeal: randomBytes(60),
    }),
  ).not.toBeNull();
  return { t, text };
}

/**
 * The statement's plans for a batch of one and of eight rotations: before the tables' first
 * ANALYZE (a fresh database, autovacuum not yet run) and after it, custom and generic.
 */
async function plans(
  t: TestDatabase,
  text: string,
): Promise<Array<{ batch: number; stats: string; mode: string; plan: string }>> {
  // The statement's one parameter: a JSON array of rotations (generated UUIDs and timestamps,
  // safe to inline as a literal).
  const batchArg = (n: number) =>
    `'${JSON.stringify(
      Array.from({ length: n }, (_, i) => ({
        i: i + 1,
        token_hash: randomUUID(),
        client_id: 'plan-client',
        at: new Date(),
        successor_id: randomUUID(),
        successor_hash: randomUUID(),
        access_token_jti: randomUUID(),
        access_token_expires_at: later,
        idle_cap: later,
      })),
    )}'`;
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    await client.query(`PREPARE rotation AS ${text}`);
    const out = [];
    for (const [stats, mode] of [
      ['fresh', 'force_custom_plan'],
      ['fresh', 'force_generic_plan'],
      ['analyzed', 'force_custom_plan'],
      ['analyzed', 'force_generic_plan'],
    ] as const) {
      if (stats === 'analyzed')
        await client.query('ANALYZE refresh_tokens, refresh_token_families, users');
      await client.query(`SET plan_cache_mode = ${mode}`);
      for (const batch of [1, 8]) {
        // EXPLAIN without ANALYZE: planned, not run.
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN EXECUTE rotation(${batchArg(batch)})`,
        );
        out.push({ batch, stats, mode, plan: rows.map((r) => r['QUERY PLAN']).join('\n') });
      }
    }
    return out;
  } finally {
    await client.end();
  }
}

onPostgres('refresh rotation statement plan', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const t of dbs) await t.drop();
  });

  it('locks each family through its primary key, never scanning the families, for one or many rotations, with or without table statistics, however the plan is cached', async () => {
    const { t, text } = await rotationDatabase(300, 0);
    dbs.push(t);
    for (const p of await plans(t, text)) {
      expect(p).toEqual(
        expect.objectContaining({
          plan: expect.stringMatching(/Index Scan using refresh_token_families_pkey/),
        }),
      );
      expect(p).toEqual(
        expect.objectContaining({
          plan: expect.not.stringMatching(/Seq Scan on refresh_token_families\b/),
        }),
      );
    }
  });

  it('with thousands of logins and users, scans no table of logins, tokens or users, nor a chain of tokens', async () => {
    const { t, text } = await rotationDatabase(3000, 2000);
    dbs.push(t);
    for (const p of await plans(t, text)) {
      expect(p).toEqual(
        expect.objectContaining({
          plan: expect.not.stringMatching(
            /Seq Scan on (refresh_token_families|refresh_tokens|users)\b/,
          ),
        }),
      );
      // Nor every token of a chain: a token is found by its hash or id, never through its family.
      expect(p).toEqual(
        expect.objectContaining({
          plan: expect.not.stringMatching(/refresh_tokens_family_id_idx/),
        }),
      );
    }
  });
});
