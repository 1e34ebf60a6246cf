/**
 * No refresh chain is lost when responses are (issue 18): 16 clients refresh in a loop while
 * the database connection is cut (a TCP proxy of the test's own) or the server process is
 * killed and restarted. A client keeps its token after any failure and retries with it; the
 * retry window hands back the successor a committed rotation issued. Afterwards every chain
 * continues, no family is revoked and each family has exactly one live refresh token: the one
 * its client holds. Needs a real PostgreSQL. Waits here are real time (separate processes and
 * a real network cut), bounded by the deadlines below.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../src/admin/clients';
import { createUser } from '../../src/admin/users';
import { loadConfig } from '../../src/config';
import { metrics } from '../../src/observability/metrics';
import { startServer } from '../../src/server';
import { buildServices, type Services } from '../../src/services';
import { sha256 } from '../../src/shared/crypto';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/database';
import { PASSWORD } from '../support/fixtures';
import { freePort, testServerEnv } from '../support/server';
import { spawnServer } from '../support/spawn-server';
import { startTcpProxy, type CutMode } from '../support/tcp-proxy';

const CHAINS = 16;
const onPostgres = describeOnPostgres('refresh-retry-faults');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Chain {
  familyId: string;
  current: string;
  refreshed: number;
  failures: number;
  /** The refusal that ended the chain, if one did. */
  lost: unknown;
}

/** A client of the token endpoint at a base URL the test may move (a restarted server). */
interface Target {
  url: string;
  auth: string;
}

/** One refresh; any failure but an OAuth refusal is "try again with the same token". */
async function refreshOnce(target: Target, chain: Chain): Promise<'ok' | 'failed' | 'refused'> {
  try {
    const res = await fetch(`${target.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: target.auth },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: chain.current,
      }).toString(),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status === 200) {
      chain.current = body.refresh_token as string;
      chain.refreshed++;
      return 'ok';
    }
    if (res.status === 400 || res.status === 401) {
      chain.lost = body;
      return 'refused';
    }
  } catch {
    // connection refused or reset, timeout: the response is lost
  }
  chain.failures++;
  return 'failed';
}

/** Refreshes every chain in a loop until `stop()` says so (each loop also ends on a refusal). */
async function drive(target: Target, chains: Chain[], stop: () => boolean): Promise<void> {
  await Promise.all(
    chains.map(async (chain) => {
      while (!stop() && !chain.lost) {
        if ((await refreshOnce(target, chain)) === 'failed') await sleep(50);
      }
    }),
  );
}

/** Every chain refreshes once more, retrying failures for up to `ms`. */
async function finalRound(target: Target, chains: Chain[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  await Promise.all(
    chains.map(async (chain) => {
      while (
        !chain.lost &&
        Date.now() < deadline &&
        (await refreshOnce(target, chain)) === 'failed'
      )
        await sleep(100);
    }),
  );
}

/** One login per chain, one after another (parallel logins of one account count as a burst). */
async function openChains(services: Services, target: Target): Promise<Chain[]> {
  const user = await createUser(services, {
    email: `retry-${randomBytes(4).toString('hex')}@example.com`,
    password: PASSWORD,
  });
  const chains: Chain[] = [];
  for (let i = 0; i < CHAINS; i++) {
    const res = await fetch(`${target.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: target.auth },
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.email,
        password: PASSWORD,
        scope: 'openid offline_access',
      }).toString(),
    });
    expect(res.status).toBe(200);
    const rt = ((await res.json()) as { refresh_token: string }).refresh_token;
    const found = await services.refreshTokens.findByHash(sha256(rt));
    chains.push({ familyId: found!.family.id, current: rt, refreshed: 0, failures: 0, lost: null });
  }
  return chains;
}

async function makeClientAuth(services: Services): Promise<string> {
  const created = await createClient(services, {
    name: 'retry-faults',
    firstParty: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['openid', 'offline_access'],
  });
  return `Basic ${Buffer.from(`${encodeURIComponent(created.client.id)}:${encodeURIComponent(created.secret!)}`).toString('base64')}`;
}

/** No chain lost, no family revoked, and each family's one live token is the one its client holds. */
async function expectChainsIntact(services: Services, chains: Chain[]): Promise<void> {
  expect(chains.filter((c) => c.lost).map((c) => c.lost)).toEqual([]);
  const prisma = services.db.prisma;
  const families = await prisma.refreshTokenFamily.findMany({
    where: { id: { in: chains.map((c) => c.familyId) } },
  });
  expect(families.filter((f) => f.revokedAt !== null)).toEqual([]);
  for (const chain of chains) {
    const live = await prisma.refreshToken.findMany({
      where: { familyId: chain.familyId, rotatedAt: null, revokedAt: null },
    });
    expect(live.map((t) => t.tokenHash)).toEqual([sha256(chain.current)]);
    // One chain: no token has two successors.
    const all = await prisma.refreshToken.findMany({
      where: { familyId: chain.familyId },
      select: { parentId: true },
    });
    const parents = all.map((t) => t.parentId).filter((p) => p !== null);
    expect(new Set(parents).size).toBe(parents.length);
  }
}

const retriesServed = async () => (await metrics.refreshRetries.get()).values[0]?.value ?? 0;

onPostgres('refresh chains survive lost responses', () => {
  let database: TestDatabase;
  let dataDir: string;

  beforeEach(async () => {
    database = await createTestDatabase({ poolSize: 2 });
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-retry-faults-'));
  });
  afterEach(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // The cut comes right after a statement was sent. In a partition (blackhole) it reaches
  // PostgreSQL and commits, and its answer is lost: the rotations it made must be handed back
  // on retry. A refused connection drops it or not, as a crash would.
  it.each<[CutMode, boolean]>([
    ['blackhole', true],
    ['refuse', false],
  ])(
    'the database connection cut (%s) for 3 s under load: 0 chains lost',
    async (mode, answersLost) => {
      const target = new URL(database.url!);
      const proxy = await startTcpProxy({
        host: target.hostname,
        port: Number(target.port || 5432),
      });
      const port = await freePort();
      const config = loadConfig({
        ...testServerEnv(port, dataDir),
        DATABASE_URL: proxy.proxiedUrl(database.url!),
        DB_POOL_SIZE: '4',
        DB_CONNECT_TIMEOUT_MS: '1000',
        DB_STATEMENT_TIMEOUT_MS: '1500',
      });
      const server = await startServer(config, createLogger('silent'), { skipMigrations: true });
      try {
        const t: Target = { url: server.url, auth: await makeClientAuth(server.services) };
        const chains = await openChains(server.services, t);
        const retriesBefore = await retriesServed();
        const started = Date.now();
        const load = drive(t, chains, () => Date.now() - started > 7000);
        await sleep(1500);
        proxy.cutAfterNextQuery(mode);
        await sleep(3000);
        proxy.restore();
        await load;
        await finalRound(t, chains, 10_000);
        expect(chains.reduce((n, c) => n + c.failures, 0)).toBeGreaterThan(0); // the cut was felt
        expect(chains.every((c) => c.refreshed > 1)).toBe(true);
        // Rotations that committed while their answer was lost were handed back on retry.
        if (answersLost) expect(await retriesServed()).toBeGreaterThan(retriesBefore);
        await expectChainsIntact(server.services, chains);
      } finally {
        await server.close();
        await proxy.close();
      }
    },
    60_000,
  );

  it('the server process killed (SIGKILL) under load and restarted: every client continues', async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: database.url!,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: dataDir,
      KEYS_DIR: join(dataDir, 'keys'),
      PORT: String(port),
      DB_POOL_SIZE: '4',
    };
    const services = buildServices(
      loadConfig({ ...env, NODE_ENV: 'test' }),
      database.db,
      createLogger('silent'),
    );
    let server = await spawnServer(env);
    const t: Target = { url: server.url, auth: await makeClientAuth(services) };
    const chains = await openChains(services, t);
    let stopped = false;
    const load = drive(t, chains, () => stopped);
    try {
      await sleep(1500);
      await server.stop('SIGKILL');
      server = await spawnServer(env);
      await sleep(1500);
      stopped = true;
      await load;
      await finalRound(t, chains, 10_000);
      expect(chains.reduce((n, c) => n + c.failures, 0)).toBeGreaterThan(0); // the kill was felt
      await expectChainsIntact(services, chains);
    } finally {
      stopped = true;
      await server.stop();
    }
  }, 90_000);
});
