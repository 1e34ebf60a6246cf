/**
 * The one-statement refresh rotation reaches the family by its primary key. (Joined to the
 * looked-up token in a CTE instead, PostgreSQL planned a scan of every family per refresh: a
 * cost that grows with the number of logins ever made.)
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { SqlExecutor } from '../../src/db/database';
import { PrismaRefreshTokenRepository } from '../../src/persistence/prisma/refresh-tokens';
import { PrismaUserRepository } from '../../src/persistence/prisma/users';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/database';

const describeOnPostgres = serverUrl() ? describe : describe.skip;

describeOnPostgres('refresh rotation statement plan', () => {
  let t: TestDatabase;
  afterAll(async () => {
    await t?.drop();
  });

  it('both rotation statements lock the family through its primary key, with no scan of all families, with or without table statistics, however the plan is cached', async () => {
    t = await createTestDatabase();
    const texts = new Map<string, string>();
    const capturing: SqlExecutor = {
      query(name, sql, values) {
        texts.set(name, sql);
        return t.db.sql.query(name, sql, values);
      },
    };
    const repo = new PrismaRefreshTokenRepository(t.db.prisma, capturing);
    const user = await new PrismaUserRepository(t.db.prisma, t.db.sql).create({ email: `${randomUUID()}@example.com`, passwordHash: 'x' });
    await t.db.prisma.client.create({ data: { id: 'plan-client', name: 'plan' } });
    const later = new Date(Date.now() + 3_600_000);
    const family = (hash: string) =>
      repo.createFamily(
        { clientId: 'plan-client', userId: user.id, scope: 'openid', authTime: new Date(), amr: ['pwd'], expiresAt: later },
        { tokenHash: hash, scope: 'openid', accessTokenJti: randomUUID(), accessTokenExpiresAt: later, idleExpiresAt: later },
      );
    for (let i = 0; i < 300; i++) await family(randomUUID());
    const hash = randomUUID();
    await family(hash);
    const rotated = await repo.findAndRotate(hash, 'plan-client', new Date(), { tokenHash: randomUUID(), accessTokenJti: randomUUID(), accessTokenExpiresAt: later, idleExpiresAt: later });
    expect(rotated?.rotated).not.toBeNull();
    // rotate(): the refresh that narrows its scope.
    expect(await repo.rotate(rotated!.rotated!.tokenHash, new Date(), { tokenHash: randomUUID(), scope: 'openid', accessTokenJti: randomUUID(), accessTokenExpiresAt: later, idleExpiresAt: later })).not.toBeNull();
    const literal = (v: string | Date) => `'${v instanceof Date ? v.toISOString() : v}'`;
    // Generated UUIDs and timestamps: safe to inline as literals.
    const statements = [
      { name: 'refresh_find_and_rotate', args: [randomUUID(), 'plan-client', new Date(), randomUUID(), randomUUID(), randomUUID(), later, later] },
      { name: 'refresh_rotate', args: [randomUUID(), new Date(), randomUUID(), randomUUID(), 'openid', randomUUID(), later, later] },
    ];

    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      for (const [i, st] of statements.entries()) await client.query(`PREPARE plan_${i} AS ${texts.get(st.name)!}`);
      // Before the tables' first ANALYZE (a fresh database, autovacuum not yet run) and after it.
      for (const [stats, mode] of [['fresh', 'force_custom_plan'], ['fresh', 'force_generic_plan'], ['analyzed', 'force_custom_plan'], ['analyzed', 'force_generic_plan']]) {
        if (stats === 'analyzed') await client.query('ANALYZE refresh_tokens, refresh_token_families, users');
        await client.query(`SET plan_cache_mode = ${mode}`);
        for (const [i, st] of statements.entries()) {
          // EXPLAIN without ANALYZE: planned, not run.
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE plan_${i}(${st.args.map(literal).join(', ')})`);
          const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
          expect({ statement: st.name, stats, mode, plan }).toEqual(expect.objectContaining({ plan: expect.stringMatching(/Index Scan using refresh_token_families_pkey/) }));
          expect({ statement: st.name, stats, mode, plan }).toEqual(expect.objectContaining({ plan: expect.not.stringMatching(/Seq Scan on refresh_token_families/) }));
        }
      }
    } finally {
      await client.end();
    }
  });
});
