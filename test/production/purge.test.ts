/**
 * The purge job (issue 7): deletes expired and long-dead rows in batches, keeps everything a
 * request may still need, and skips its run while another instance holds the purge lock.
 */
import { randomUUID } from 'node:crypto';
import { purgeOnce, PURGE_BATCH, RETIRED_KEY_KEEP_DAYS } from '../../src/observability/purge';
import { serverUrl } from '../support/database';
import { useTestServer } from '../support/server';
import { makeClient, makeUser } from '../support/fixtures';

const server = useTestServer({ env: { AUDIT_RETENTION_DAYS: '30', LOGIN_FAILURE_WINDOW: '3600' } });

const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms);
const ahead = (ms: number) => new Date(Date.now() + ms);

async function count(table: string, where = 'TRUE'): Promise<number> {
  const rows = await server().services.db.prisma.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
  );
  return rows[0]!.n;
}

describe('purgeOnce', () => {
  it('deletes what is dead and keeps what is alive, table by table', async () => {
    const p = server().services.db.prisma;
    const user = await makeUser(server());
    const { client } = await makeClient(server());
    const family = async (name: string, expiresAt: Date, revokedAt: Date | null) => {
      const id = randomUUID();
      await p.refreshTokenFamily.create({
        data: {
          id,
          clientId: client.id,
          userId: user.id,
          scope: name,
          authTime: ago(0),
          expiresAt,
          revokedAt,
        },
      });
      await p.refreshToken.create({
        data: {
          id: randomUUID(),
          familyId: id,
          tokenHash: randomUUID(),
          scope: name,
          idleExpiresAt: ahead(DAY),
        },
      });
    };
    await family('expired', ago(1000), null);
    await family('revoked-long-ago', ahead(DAY), ago(2 * DAY));
    await family('revoked-just-now', ahead(DAY), ago(1000));
    await family('alive', ahead(DAY), null);

    const code = (id: string, expiresAt: Date) =>
      p.authorizationCode.create({
        data: {
          id: randomUUID(),
          codeHash: id,
          clientId: client.id,
          userId: user.id,
          redirectUri: 'https://a.example/cb',
          scope: 'openid',
          authTime: ago(0),
          expiresAt,
        },
      });
    await code('old-code', ago(2 * DAY));
    await code('fresh-code', ahead(60_000));

    await p.revokedAccessToken.createMany({
      data: [
        { jti: 'expired-jti', expiresAt: ago(1000) },
        { jti: 'live-jti', expiresAt: ahead(60_000) },
      ],
    });

    await p.usedJti.createMany({
      data: [
        { kind: 'dpop_proof', keyHash: 'used-long-ago', expiresAt: ago(1000) },
        { kind: 'dpop_proof', keyHash: 'still-single-use', expiresAt: ahead(60_000) },
      ],
    });

    const session = (expiresAt: Date, endedAt: Date | null) =>
      p.browserSession.create({
        data: {
          id: randomUUID(),
          secretHash: randomUUID(),
          userId: user.id,
          authTime: ago(0),
          expiresAt,
          endedAt,
        },
      });
    await session(ago(1000), null);
    await session(ahead(DAY), ago(2 * DAY));
    await session(ahead(DAY), null);

    // More stale counters than one batch holds, plus a stale one still blocked and a fresh one.
    await p.loginThrottle.createMany({
      data: Array.from({ length: PURGE_BATCH + 500 }, (_, i) => ({
        key: `stale-${i}`,
        failures: 1,
        firstFailure: ago(2 * 3600_000),
        lastFailure: ago(2 * 3600_000),
      })),
    });
    await p.loginThrottle.create({
      data: {
        key: 'stale-but-blocked',
        failures: 9,
        firstFailure: ago(2 * 3600_000),
        lastFailure: ago(2 * 3600_000),
        blockedUntil: ahead(60_000),
      },
    });
    await p.loginThrottle.create({
      data: { key: 'fresh', failures: 1, firstFailure: ago(1000), lastFailure: ago(1000) },
    });

    await p.auditEvent.createMany({
      data: [
        { type: 'test.old', at: ago(31 * DAY) },
        { type: 'test.recent', at: ago(DAY) },
      ],
    });

    const [someKey] = await p.signingKey.findMany({ take: 1 });
    await p.signingKey.create({
      data: {
        kid: 'retired-long-ago',
        alg: 'ES256',
        state: 'retired',
        publicJwk: someKey!.publicJwk as object,
        publishedAt: ago(90 * DAY),
        retiredAt: ago((RETIRED_KEY_KEEP_DAYS + 1) * DAY),
      },
    });
    await p.signingKey.create({
      data: {
        kid: 'retired-recently',
        alg: 'ES256',
        state: 'retired',
        publicJwk: someKey!.publicJwk as object,
        publishedAt: ago(90 * DAY),
        retiredAt: ago(DAY),
      },
    });

    const report = await purgeOnce(server().services);
    expect(report.ran).toBe(true);
    expect(report.deleted).toMatchObject({
      authorization_codes: 1,
      refresh_token_families: 2,
      revoked_access_tokens: 1,
      used_jtis: 1,
      browser_sessions: 2,
      login_throttles: PURGE_BATCH + 500,
      audit_events: 1,
      signing_keys: 1,
    });
    expect(
      (await p.refreshTokenFamily.findMany({ where: { userId: user.id } }))
        .map((f) => f.scope)
        .sort(),
    ).toEqual(['alive', 'revoked-just-now']);
    // Their tokens went with the purged families (no orphans).
    expect(
      await count('refresh_tokens', `family_id NOT IN (SELECT id FROM refresh_token_families)`),
    ).toBe(0);
    expect(
      await count(
        'refresh_tokens',
        `family_id IN (SELECT id FROM refresh_token_families WHERE user_id = '${user.id}')`,
      ),
    ).toBe(2);
    expect(await count('authorization_codes', `code_hash = 'fresh-code'`)).toBe(1);
    expect(await count('revoked_access_tokens', `jti = 'live-jti'`)).toBe(1);
    expect(await count('used_jtis', `key_hash = 'still-single-use'`)).toBe(1);
    expect(await count('browser_sessions', `user_id = '${user.id}'`)).toBe(1);
    expect(
      (await p.loginThrottle.findMany({ where: { key: { in: ['stale-but-blocked', 'fresh'] } } }))
        .length,
    ).toBe(2);
    expect(await count('audit_events', `type = 'test.recent'`)).toBe(1);
    expect(await count('signing_keys', `kid = 'retired-recently'`)).toBe(1);
    expect(server().services.keyStore.isReady()).toBe(true);

    // A second run finds nothing left.
    const again = await purgeOnce(server().services);
    expect(Object.values(again.deleted).every((n) => n === 0)).toBe(true);
  });

  (serverUrl() ? it : it.skip)(
    'skips its run while another instance holds the purge lock (PostgreSQL)',
    async () => {
      const p = server().services.db.prisma;
      await p.revokedAccessToken.create({
        data: { jti: 'expired-while-locked', expiresAt: ago(1000) },
      });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const lockTaken = new Promise<void>((r) => (locked = r));
      // Another instance's purge transaction, holding the lock.
      const other = p.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1 AS x FROM (SELECT pg_advisory_xact_lock(7355609::bigint)) AS l`;
          locked();
          await held;
        },
        { timeout: 30_000 },
      );
      await lockTaken;
      const report = await purgeOnce(server().services);
      release();
      await other;
      expect(report.ran).toBe(false);
      expect(await count('revoked_access_tokens', `jti = 'expired-while-locked'`)).toBe(1);
      expect((await purgeOnce(server().services)).ran).toBe(true);
      expect(await count('revoked_access_tokens', `jti = 'expired-while-locked'`)).toBe(0);
    },
  );
});
