/**
 * Database faults (issue 7): a TCP proxy of the test's own sits between the server and
 * PostgreSQL. While it is cut, requests that need the database answer 503
 * temporarily_unavailable within a bounded time, /readyz is 503, /healthz and the JWKS (served
 * from memory) stay 200; once restored the server recovers by itself. Needs a real PostgreSQL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../src/admin/clients';
import { createUser } from '../../src/admin/users';
import { loadConfig } from '../../src/config';
import { isDatabaseUnavailable } from '../../src/persistence/errors';
import { startServer, type RunningServer } from '../../src/server';
import { sha256 } from '../../src/shared/crypto';
import { createLogger } from '../../src/shared/logger';
import {
  createTestDatabase,
  describeOnPostgres,
  serverUrl,
  type TestDatabase,
} from '../support/database';
import { PASSWORD } from '../support/fixtures';
import { freePort, testServerEnv } from '../support/server';
import { startTcpProxy, type CutMode, type TcpProxy } from '../support/tcp-proxy';

const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 1500;
/** Generous upper bound for "fails fast": the timeouts plus slack for a loaded 2-core machine. */
const FAIL_FAST_BOUND_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 2000;

const onPostgres = describeOnPostgres('database-faults');

let database: TestDatabase;
let proxy: TcpProxy;
let server: RunningServer;
let dataDir: string;
let fixture: { email: string; clientId: string; auth: string; accessToken: string };

beforeAll(async () => {
  if (!serverUrl()) return;
  database = await createTestDatabase({ poolSize: 2 });
  const target = new URL(database.url!);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
  const port = await freePort();
  // The server opens its own pool from the config, through the proxy: the real start-up path.
  const config = loadConfig({
    ...testServerEnv(port, dataDir),
    DATABASE_URL: proxy.proxiedUrl(database.url!),
    DB_POOL_SIZE: '4',
    DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  });
  server = await startServer(config, createLogger('silent'), { skipMigrations: true });
  const user = await createUser(server.services, {
    email: 'faults@example.com',
    password: PASSWORD,
  });
  const created = await createClient(server.services, {
    name: 'faults',
    firstParty: true,
    grantTypes: ['password', 'refresh_token', 'authorization_code'],
    scopes: ['openid', 'offline_access'],
    redirectUris: ['https://app.example.com/cb'],
  });
  fixture = {
    email: user.email,
    clientId: created.client.id,
    auth: `Basic ${Buffer.from(`${encodeURIComponent(created.client.id)}:${encodeURIComponent(created.secret!)}`).toString('base64')}`,
    accessToken: '',
  };
  const login = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: fixture.auth },
    body: new URLSearchParams({
      grant_type: 'password',
      username: user.email,
      password: PASSWORD,
      scope: 'openid offline_access',
    }).toString(),
  });
  fixture.accessToken = ((await login.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  if (!serverUrl()) return;
  proxy?.restore();
  await server?.close();
  await proxy?.close();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await fn();
  return { ms: Date.now() - started, value };
}

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: await res.json() };
}

/** Lets the load run 300 ms, cuts the database for 1.5 s, restores it, then stops the load. */
async function cutUnderLoad(stopLoad: () => void): Promise<void> {
  try {
    await new Promise((r) => setTimeout(r, 300));
    proxy.cut('refuse');
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    proxy.restore();
    stopLoad();
  }
}

async function waitUntilReady(): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await fetch(`${server.url}/readyz`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not recover');
}

onPostgres.each<CutMode>(['refuse', 'blackhole'])('database cut (%s)', (mode) => {
  beforeAll(async () => {
    // Fill the pool so the cut hits live connections too, not only new ones (overlapping
    // queries: Prisma would batch identical look-ups onto one connection).
    await Promise.all(
      [1, 2, 3, 4].map(() => server.services.db.prisma.$queryRaw`SELECT 1 FROM pg_sleep(0.1)`),
    );
    expect(proxy.openConnections).toBe(4);
    proxy.cut(mode);
  });
  afterAll(async () => {
    proxy.restore();
    await waitUntilReady();
  });

  it('/readyz answers 503 within the connect timeout, /healthz stays 200', async () => {
    const ready = await timed(() => get('/readyz'));
    expect(ready.value).toEqual({
      status: 503,
      body: { status: 'not_ready', checks: { database: 'unavailable', signing_keys: 'ok' } },
    });
    expect(ready.ms).toBeLessThan(FAIL_FAST_BOUND_MS);
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it.each([
    [
      'POST /token',
      () => ({
        method: 'POST',
        path: '/token',
        form: {
          grant_type: 'password',
          username: fixture.email,
          password: PASSWORD,
          scope: 'openid',
        },
        auth: fixture.auth,
      }),
    ],
    [
      'POST /refresh',
      () => ({
        method: 'POST',
        path: '/refresh',
        form: { refresh_token: 'x'.repeat(43) },
        auth: fixture.auth,
      }),
    ],
    [
      'POST /introspect',
      () => ({
        method: 'POST',
        path: '/introspect',
        form: { token: fixture.accessToken },
        auth: fixture.auth,
      }),
    ],
    [
      'POST /revoke',
      () => ({
        method: 'POST',
        path: '/revoke',
        form: { token: 'x'.repeat(43) },
        auth: fixture.auth,
      }),
    ],
    [
      'GET /userinfo',
      () => ({ method: 'GET', path: '/userinfo', auth: `Bearer ${fixture.accessToken}` }),
    ],
  ])('%s answers 503 temporarily_unavailable within the bound', async (_name, make) => {
    const r = make() as {
      method: string;
      path: string;
      form?: Record<string, string>;
      auth: string;
    };
    const started = Date.now();
    const res = await fetch(`${server.url}${r.path}`, {
      method: r.method,
      headers: {
        authorization: r.auth,
        ...(r.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(r.form ? { body: new URLSearchParams(r.form).toString() } : {}),
    });
    expect(Date.now() - started).toBeLessThan(FAIL_FAST_BOUND_MS);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('the authorization page answers a 503 page', async () => {
    const qs = new URLSearchParams({
      response_type: 'code',
      client_id: fixture.clientId,
      redirect_uri: 'https://app.example.com/cb',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const started = Date.now();
    const res = await fetch(`${server.url}/authorize?${qs}`, { redirect: 'manual' });
    expect(Date.now() - started).toBeLessThan(FAIL_FAST_BOUND_MS);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/Temporarily unavailable/);
  });

  it('the JWKS is still served from memory', async () => {
    const jwks = await get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect((jwks.body as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it.each([
    ['a read', () => server.services.users.findByEmail('nobody@example.com')],
    [
      'a transaction',
      () =>
        server.services.refreshTokens.rotateRefreshToken(
          'x'.repeat(43),
          'some-client',
          new Date(),
          {
            id: randomUUID(),
            tokenHash: 'y'.repeat(43),
            accessTokenJti: null,
            accessTokenExpiresAt: null,
            idleExpiresAt: new Date(),
            retrySeal: randomBytes(60),
          },
        ),
    ],
  ])(
    '%s fails fast with an error recognised as "database unavailable", on live and new connections',
    async (_name, op) => {
      // More at once than the pool holds: some run on the (now dead) pooled connections, the
      // rest wait for a connection that cannot be made.
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const started = Date.now();
          const err = await op().then(
            () => null,
            (e: unknown) => e,
          );
          return { ms: Date.now() - started, unavailable: isDatabaseUnavailable(err) };
        }),
      );
      for (const o of outcomes) {
        expect(o.unavailable).toBe(true);
        expect(o.ms).toBeLessThan(FAIL_FAST_BOUND_MS);
      }
    },
  );
});

onPostgres('recovery', () => {
  it('after a restore the server answers from the database again without a restart', async () => {
    proxy.cut('refuse');
    expect((await get('/readyz')).status).toBe(503);
    proxy.restore();
    await waitUntilReady();
    await expect(server.services.users.findByEmail('nobody@example.com')).resolves.toBeNull();
  });
});

onPostgres('refresh rotations interrupted by a cut', () => {
  interface Chain {
    familyId: string;
    /** The token the client holds. */
    current: string;
    /** A successor whose rotation failed with a database error: it may or may not have committed. */
    pending: string | null;
  }

  const newToken = () => randomBytes(32).toString('base64url');
  const successorOf = (token: string, at: Date) => ({
    id: randomUUID(),
    retrySeal: randomBytes(60),
    tokenHash: sha256(token),
    scope: 'openid offline_access',
    accessTokenJti: null,
    accessTokenExpiresAt: null,
    idleExpiresAt: new Date(at.getTime() + 3600_000),
  });

  it('leaves no half-done state: every chain has exactly one live token, the old one or its committed successor', async () => {
    const { services } = server;
    const user = await createUser(services, {
      email: `load-${Date.now()}@example.com`,
      password: 'correct horse battery staple',
    });
    const { client } = await createClient(services, {
      name: 'load',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
    });
    const now = new Date();
    const chains: Chain[] = [];
    for (let i = 0; i < 12; i++) {
      const first = newToken();
      const { family } = await services.refreshTokens.createFamily(
        {
          clientId: client.id,
          userId: user.id,
          scope: 'openid offline_access',
          authTime: now,
          amr: ['pwd'],
          expiresAt: new Date(now.getTime() + 86_400_000),
        },
        successorOf(first, now),
      );
      chains.push({ familyId: family.id, current: first, pending: null });
    }

    // Each chain rotates as fast as it can (the client keeps whatever token it last got);
    // the proxy is cut while rotations are in flight, then restored.
    let running = true;
    let failures = 0;
    let rotations = 0;
    const rotateLoop = async (chain: Chain) => {
      while (running) {
        if (chain.pending) break; // the client lost an answer: settle it after the cut
        const next = newToken();
        try {
          const rotated = await services.refreshTokens.rotateRefreshToken(
            sha256(chain.current),
            client.id,
            new Date(),
            successorOf(next, new Date()),
          );
          expect(rotated).not.toBeNull();
          chain.current = next;
          rotations++;
        } catch (err) {
          expect(isDatabaseUnavailable(err)).toBe(true);
          failures++;
          chain.pending = next;
        }
      }
    };
    const loops = Promise.all(chains.map(rotateLoop));
    await cutUnderLoad(() => (running = false));
    await loops;
    await waitUntilReady();
    expect(rotations).toBeGreaterThan(0);
    expect(failures).toBeGreaterThan(0);

    // Database invariants, read directly (not through the proxy).
    const db = database.db.prisma;
    const familyIds = chains.map((c) => c.familyId);
    const live = await db.$queryRaw<{ family_id: string; n: number }[]>`
      SELECT family_id::text, count(*)::int AS n FROM refresh_tokens
       WHERE family_id = ANY(${familyIds}::uuid[]) AND rotated_at IS NULL AND revoked_at IS NULL GROUP BY family_id`;
    expect(live).toHaveLength(chains.length);
    for (const row of live) expect(row.n).toBe(1);
    const children = await db.$queryRaw<{ id: string; n: number }[]>`
      SELECT p.id::text, count(c.id)::int AS n FROM refresh_tokens p LEFT JOIN refresh_tokens c ON c.parent_id = p.id
       WHERE p.family_id = ANY(${familyIds}::uuid[]) AND p.rotated_at IS NOT NULL GROUP BY p.id`;
    for (const row of children) expect(row.n).toBe(1);
    const orphans = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM refresh_tokens c
       WHERE c.family_id = ANY(${familyIds}::uuid[]) AND c.parent_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM refresh_tokens p WHERE p.id = c.parent_id AND p.rotated_at IS NOT NULL)`;
    expect(orphans[0]!.n).toBe(0);

    // From the client's side: the token it holds still works, or the interrupted rotation
    // committed completely and the successor it never received is the live one.
    for (const chain of chains) {
      const held = await services.refreshTokens.findByHash(sha256(chain.current));
      const live = held!.token.rotatedAt === null ? chain.current : chain.pending;
      expect(live).not.toBeNull();
      const again = await services.refreshTokens.rotateRefreshToken(
        sha256(live!),
        client.id,
        new Date(),
        successorOf(newToken(), new Date()),
      );
      expect(again).not.toBeNull();
    }
  });
});

onPostgres('/refresh requests in flight during a cut', () => {
  async function form(
    path: string,
    params: Record<string, string>,
    auth: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('answers 503 temporarily_unavailable fast, and afterwards the token each client holds still works', async () => {
    const { services } = server;
    const password = 'correct horse battery staple';
    const user = await createUser(services, {
      email: `http-load-${Date.now()}@example.com`,
      password,
    });
    const created = await createClient(services, {
      name: 'http-load',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['openid', 'offline_access'],
    });
    const auth = `Basic ${Buffer.from(`${encodeURIComponent(created.client.id)}:${encodeURIComponent(created.secret!)}`).toString('base64')}`;
    const held: string[] = [];
    for (let i = 0; i < 8; i++) {
      const login = await form(
        '/token',
        { grant_type: 'password', username: user.email, password, scope: 'openid offline_access' },
        auth,
      );
      expect(login.status).toBe(200);
      held.push(login.body.refresh_token as string);
    }

    let running = true;
    const unavailable: number[] = [];
    const loops = held.map(async (_t, i) => {
      while (running) {
        const started = Date.now();
        const res = await form('/refresh', { refresh_token: held[i]! }, auth);
        if (res.status === 200) {
          held[i] = res.body.refresh_token as string;
          continue;
        }
        expect(res).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
        unavailable.push(Date.now() - started);
        // Whether that rotation committed is settled below: retrying the same token now could
        // meet a rotation whose commit acknowledgement alone was lost (reuse → invalid_grant).
        break;
      }
    });
    await cutUnderLoad(() => (running = false));
    await Promise.all(loops);
    await waitUntilReady();
    expect(unavailable.length).toBeGreaterThan(0);
    for (const ms of unavailable) expect(ms).toBeLessThan(FAIL_FAST_BOUND_MS);

    // Every client's last token still works — unless its rotation committed and only the
    // answer was lost with the connection (the commit acknowledgement itself cut), in which
    // case the database shows it rotated with exactly one live successor: never half-done.
    for (const token of held) {
      const row = await database.db.prisma.refreshToken.findUnique({
        where: { tokenHash: sha256(token) },
      });
      if (row!.rotatedAt === null) {
        expect((await form('/refresh', { refresh_token: token }, auth)).status).toBe(200);
      } else {
        const children = await database.db.prisma.refreshToken.findMany({
          where: { parentId: row!.id },
        });
        expect(children).toHaveLength(1);
        expect(children[0]!.rotatedAt).toBeNull();
      }
    }
  });
});
