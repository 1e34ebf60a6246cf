/**
 * The scale bench's loader (bench/scale/load-data.ts) at a tiny scale: it fills every table to
 * the stated volume, and the rows are ones the server itself accepts — a bulk user logs in with
 * the password grant, a bulk family's live token rotates while its rotated ones count as reuse
 * (RFC 9700 §4.14.2), and a revocation target is revoked (RFC 7009 §2.1).
 */
import pg from 'pg';
import {
  bulkLoad,
  databaseSizes,
  insertRevocationTargets,
  SCALE_PASSWORD,
  scaleUserEmail,
  TOKENS_PER_FAMILY,
  volumesAt,
  type Volumes,
} from '../../bench/scale/load-data';
import { describeOnPostgres } from '../support/database';
import { basicAuth } from '../support/fixtures';
import { startTestServer, TEST_ENV, type TestServer } from '../support/server';
import { newClient, postForm, refresh, revoke, type TestClient } from '../support/tokens';

const SCALE = 0.0005;
const argon2 = {
  memoryCost: Number(TEST_ENV.ARGON2_MEMORY_KIB),
  timeCost: Number(TEST_ENV.ARGON2_TIME_COST),
  parallelism: 1,
};

describeOnPostgres('scale-load')(`bench loader at --scale ${SCALE}`, () => {
  let server: TestServer;
  let template: TestClient;
  let volumes: Volumes;
  let url: string;

  beforeAll(async () => {
    server = await startTestServer();
    url = server.database.url!;
    template = await newClient(server, { scopes: ['openid', 'offline_access', 'api:read'] });
    volumes = volumesAt(SCALE);
    await bulkLoad(url, volumes, argon2);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  /** Bulk clients are copies of the template client, secret included. */
  const bulkClient = (n: number): TestClient => ({
    ...template,
    client: { ...template.client, id: `scale-client-${n}` },
  });
  const clientOfFamily = (n: number) => bulkClient(1 + (n % volumes.clients));

  it('fills every table to the stated volume', async () => {
    expect(volumes).toEqual({
      users: 500,
      clients: 50,
      families: 500,
      refreshTokens: 500 * TOKENS_PER_FAMILY,
      revokedJtis: 500,
      auditEvents: 1000,
      browserSessions: 250,
    });
    const sizes = await databaseSizes(url);
    // Besides the bulk rows: the template client, and the audit events the server wrote.
    expect(sizes.rows).toMatchObject({
      users: volumes.users,
      clients: volumes.clients + 1,
      refresh_token_families: volumes.families,
      refresh_tokens: volumes.refreshTokens,
      revoked_access_tokens: volumes.revokedJtis,
      browser_sessions: volumes.browserSessions,
    });
    expect(sizes.rows.audit_events).toBeGreaterThanOrEqual(volumes.auditEvents);
    expect(sizes.tables.map((t) => t.name)).toContain('refresh_tokens');
  });

  it('keeps one live token per family, the rest rotated, and half the jtis expired', async () => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const live = await db.query<{ n: string }>(
        'SELECT count(*) n FROM refresh_tokens WHERE rotated_at IS NULL',
      );
      expect(Number(live.rows[0]!.n)).toBe(volumes.families);
      const expired = await db.query<{ n: string }>(
        'SELECT count(*) n FROM revoked_access_tokens WHERE expires_at < now()',
      );
      expect(Number(expired.rows[0]!.n)).toBe(volumes.revokedJtis / 2);
    } finally {
      await db.end();
    }
  });

  it('a user from the middle of the table logs in with the password grant', async () => {
    const res = await postForm(
      server,
      '/token',
      {
        grant_type: 'password',
        username: scaleUserEmail(volumes.users / 2),
        password: SCALE_PASSWORD,
        scope: 'openid',
      },
      { authorization: basicAuth(template.client.id, template.secret!) },
    );
    expect(res.status).toBe(200);
  });

  it("rotates a family's live token and treats a rotated one as reuse", async () => {
    const n = 2; // n % 10 = 2: neither expired nor revoked
    const last = TOKENS_PER_FAMILY - 1;
    const rotated = await refresh(server, clientOfFamily(n), `scale-rt-${n}-${last}`);
    expect(rotated.status).toBe(200);
    const reused = await refresh(server, clientOfFamily(n + 10), `scale-rt-${n + 10}-${last - 1}`);
    expect(reused.status).toBe(400);
    expect(((await reused.json()) as { error: string }).error).toBe('invalid_grant');
    // Reuse revoked the family: its live token is refused too.
    const after = await refresh(server, clientOfFamily(n + 10), `scale-rt-${n + 10}-${last}`);
    expect(after.status).toBe(400);
  });

  it('refuses a revoked family and an expired one', async () => {
    const last = TOKENS_PER_FAMILY - 1;
    for (const n of [10, 11]) {
      const res = await refresh(server, clientOfFamily(n), `scale-rt-${n}-${last}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    }
  });

  it('inserts revocation targets the endpoint revokes', async () => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const user = await db.query<{ id: string }>('SELECT id FROM users LIMIT 1');
    await db.end();
    const [token] = await insertRevocationTargets(url, {
      clientId: template.client.id,
      userId: user.rows[0]!.id,
      prefix: 'test-revoke',
      count: 3,
    });
    expect((await revoke(server, template, token!)).status).toBe(200);
    const res = await refresh(server, template, token!);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
  });
});
