/**
 * Several instances on one database (issue 7): two real server processes (what `npm start`
 * runs), on different ports, sharing one PostgreSQL. Everything that must be shared lives in
 * the database, so what happens on one instance holds on the other. They are separate
 * processes, so waits here are real time (kept to the ~1 s windows configured below). The
 * last block checks WEB_CONCURRENCY cluster mode. Needs a real PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../src/admin/clients';
import { createUser } from '../../src/admin/users';
import { loadConfig } from '../../src/config';
import { buildServices, type Services } from '../../src/services';
import { createLogger } from '../../src/shared/logger';
import {
  createTestDatabase,
  describeOnPostgres,
  serverUrl,
  type TestDatabase,
} from '../support/database';
import { PASSWORD } from '../support/fixtures';
import { spawnServer, type SpawnedServer } from '../support/spawn-server';

const onPostgres = describeOnPostgres('multi-instance');

let database: TestDatabase;
let dataDir: string;
let sharedEnv: Record<string, string>;
let services: Services;
let a: SpawnedServer;
let b: SpawnedServer;
let clientAuth: string;
let clientId: string;

beforeAll(async () => {
  if (!serverUrl()) return;
  database = await createTestDatabase({ poolSize: 2 });
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-multi-'));
  sharedEnv = {
    DATABASE_URL: database.url!,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: dataDir,
    KEYS_DIR: join(dataDir, 'keys'),
    // One issuer for every instance, as behind a load balancer.
    ISSUER: 'http://tessera.test',
    DB_POOL_SIZE: '3',
    REFRESH_REUSE_GRACE_SECONDS: '1',
    KEY_REFRESH_INTERVAL: '1',
    LOGIN_MAX_FAILURES: '3',
    LOGIN_BACKOFF_BASE: '60',
  };
  [a, b] = await Promise.all([spawnServer(sharedEnv), spawnServer(sharedEnv)]);
  // The test arranges data through the same services, on the same database.
  services = buildServices(
    loadConfig({ ...sharedEnv, NODE_ENV: 'test' }),
    database.db,
    createLogger('silent'),
  );
  const created = await createClient(services, {
    name: 'multi',
    firstParty: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['openid', 'offline_access', 'api'],
  });
  clientId = created.client.id;
  clientAuth = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(created.secret!)}`).toString('base64')}`;
}, 120_000);

afterAll(async () => {
  if (!serverUrl()) return;
  await Promise.all([a?.stop(), b?.stop()]);
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function post(
  server: SpawnedServer,
  path: string,
  params: Record<string, string>,
): Promise<Reply> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientAuth },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text(); // RFC 7009 §2.2: /revoke answers 200 with no body
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function newUser(): Promise<string> {
  const email = `multi-${randomBytes(4).toString('hex')}@example.com`;
  await createUser(services, { email, password: PASSWORD });
  return email;
}

const login = (server: SpawnedServer, email: string, password = PASSWORD) =>
  post(server, '/token', {
    grant_type: 'password',
    username: email,
    password,
    scope: 'openid offline_access api',
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function kidsOf(server: SpawnedServer): Promise<string[]> {
  const res = await fetch(`${server.url}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

onPostgres('two instances on one database', () => {
  it('a refresh token rotated on A and replayed on B after the grace window revokes the family', async () => {
    const email = await newUser();
    const first = await login(a, email);
    expect(first.status).toBe(200);
    const r0 = first.body.refresh_token as string;
    const rotated = await post(a, '/refresh', { refresh_token: r0 });
    expect(rotated.status).toBe(200);
    const r1 = rotated.body.refresh_token as string;

    await sleep(1500); // past REFRESH_REUSE_GRACE_SECONDS=1 (real time: separate processes)
    const replay = await post(b, '/refresh', { refresh_token: r0 });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The whole family is gone, on either instance: the legitimate holder's token too.
    expect(await post(a, '/refresh', { refresh_token: r1 })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(await post(b, '/refresh', { refresh_token: r1 })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    // And the access token issued with r1 is denied on both.
    for (const s of [a, b]) {
      expect(
        (await post(s, '/introspect', { token: rotated.body.access_token as string })).body,
      ).toEqual({ active: false });
    }
  });

  it('login failures on A count toward the lockout on B', async () => {
    const email = await newUser();
    expect((await login(a, email, 'wrong 1')).body.error).toBe('invalid_grant');
    expect((await login(b, email, 'wrong 2')).body.error).toBe('invalid_grant');
    expect((await login(a, email, 'wrong 3')).body.error).toBe('invalid_grant');
    // LOGIN_MAX_FAILURES=3 reached across both: even the right password is slowed down, on B too.
    const blocked = await login(b, email);
    expect(blocked).toMatchObject({ status: 429, body: { error: 'invalid_grant' } });
    expect((await login(a, email)).status).toBe(429);
  });

  it('a token revoked on A is inactive when introspected on B', async () => {
    const email = await newUser();
    const tokens = (await login(a, email)).body;
    const access = tokens.access_token as string;
    const refresh = tokens.refresh_token as string;
    expect((await post(b, '/introspect', { token: access })).body).toMatchObject({
      active: true,
      client_id: clientId,
    });
    expect((await post(a, '/revoke', { token: access })).status).toBe(200);
    expect((await post(a, '/revoke', { token: refresh })).status).toBe(200);
    expect((await post(b, '/introspect', { token: access })).body).toEqual({ active: false });
    expect((await post(b, '/introspect', { token: refresh })).body).toEqual({ active: false });
    expect(await post(b, '/refresh', { refresh_token: refresh })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('a key rotated by the script is served by both JWKS within KEY_REFRESH_INTERVAL', async () => {
    const active = (await services.signingKeys.listPublished()).find(
      (k) => k.state === 'active' && k.alg === 'RS256',
    )!;
    expect(await kidsOf(a)).toContain(active.kid);
    // An emergency rotation: the active key is retired at once and a replacement activated.
    const code = await runScript([
      'scripts/rotate-keys.ts',
      '--emergency',
      '--kid',
      active.kid,
      '--json',
    ]);
    expect(code).toBe(0);
    const replacement = (await services.signingKeys.listPublished()).find(
      (k) => k.state === 'active' && k.alg === 'RS256',
    )!;
    expect(replacement.kid).not.toBe(active.kid);

    const started = Date.now();
    for (const s of [a, b]) {
      for (;;) {
        const kids = await kidsOf(s);
        if (kids.includes(replacement.kid) && !kids.includes(active.kid)) break;
        // KEY_REFRESH_INTERVAL=1: one poll plus generous slack for a loaded machine.
        expect(Date.now() - started).toBeLessThan(5000);
        await sleep(100);
      }
    }
    // Both sign with the replacement now.
    const email = await newUser();
    for (const s of [a, b]) {
      const jwt = (await login(s, email)).body.access_token as string;
      const header = JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as {
        kid: string;
        alg: string;
      };
      if (header.alg === 'RS256') expect(header.kid).toBe(replacement.kid);
      else expect(header.kid).not.toBe(active.kid);
    }
  });
});

function runScript(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(__dirname, '..', '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'), ...args],
      {
        cwd: join(__dirname, '..', '..'),
        env: { PATH: process.env.PATH ?? '', ...sharedEnv, LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      },
    );
    child.once('exit', (code) => resolve(code));
  });
}

/** Every process below `pid` (the spawned process is the cluster primary; the workers are its children). */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of rows) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

onPostgres('WEB_CONCURRENCY cluster mode', () => {
  it('two workers serve, and SIGTERM stops all of them with exit code 0', async () => {
    const cluster = await spawnServer({ ...sharedEnv, WEB_CONCURRENCY: '2', LOG_LEVEL: 'info' });
    // Both workers listen (each logs it once it is serving); primary → 2 workers.
    const deadline = Date.now() + 60_000;
    while (cluster.output().split('tessera listening').length - 1 < 2 && Date.now() < deadline)
      await sleep(200);
    expect(cluster.output().split('tessera listening').length - 1).toBe(2);
    const procs = descendants(cluster.pid);
    expect(procs.length).toBe(2);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${cluster.url}/readyz`).then((r) => r.status)),
    );
    expect(replies.every((s) => s === 200)).toBe(true);
    expect(await cluster.stop('SIGTERM')).toBe(0);
    const alive = () =>
      procs.filter((p) => {
        try {
          process.kill(p, 0);
          return true;
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 20 && alive().length > 0; i++) await sleep(100);
    expect(alive()).toEqual([]);
  });
});

/** Threads of a process, from /proc (Linux). */
const threadCount = (pid: number) => readdirSync(`/proc/${pid}/task`).length;

onPostgres('the libuv thread pool', () => {
  it('has one thread per hash computed at once (PASSWORD_HASH_CONCURRENCY) and one more, unless UV_THREADPOOL_SIZE is set', async () => {
    // libuv starts its pool on first use: a login makes each server hash once. Everything else
    // in the three processes (V8's platform threads, Node's own) is the same, so the
    // differences in thread count are the pools'.
    const envs: Record<string, string>[] = [
      { PASSWORD_HASH_CONCURRENCY: '1' },
      { PASSWORD_HASH_CONCURRENCY: '3' },
      { PASSWORD_HASH_CONCURRENCY: '1', UV_THREADPOOL_SIZE: '5' },
    ];
    const servers = await Promise.all(envs.map((env) => spawnServer({ ...sharedEnv, ...env })));
    try {
      const email = await newUser();
      for (const server of servers) expect((await login(server, email)).status).toBe(200);
      // Pools of 2, 4 and 5 threads.
      const [one, three, five] = servers.map((s) => threadCount(s.pid));
      expect([three! - one!, five! - one!]).toEqual([2, 3]);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 120_000);
});
