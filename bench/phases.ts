/**
 * The three phases of a run — the machine's limits, Tessera, the peer — each adding its rows.
 * Every server and every load generator is a child process; this process only orchestrates.
 */
import os from 'node:os';
import type { LoadResult, LoadSpec } from './load/spec';
import type { BenchOptions } from './options';
import { phaseSelected, selected } from './options';
import { freePort, runChild, RssSampler, startForked, type ServiceProcess } from './processes';
import type { Limits, ScenarioRow } from './report';
import * as S from './scenarios';
import { endpointExists, passwordLogins, seedTessera, SERVICE_SCOPE, startTessera, tesseraEnv, USER_SCOPE, type BenchClient } from './tessera';
import type { PeerConfig } from './peer/oidc-provider';

const HOST = '127.0.0.1';
const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);

async function load(spec: LoadSpec, rss?: RssSampler): Promise<{ result: LoadResult; peakRssMB?: number }> {
  log(`${spec.name}: ${spec.connections} connections, warm-up ≥ ${spec.warmupMs / 1000} s and ≥ ${spec.warmupRequests} answers (≤ ${spec.warmupMaxMs / 1000} s), then ${spec.durationMs / 1000} s`);
  rss?.restart();
  const result = await runChild<LoadResult>('bench/load/worker.ts', spec);
  rss?.sample();
  const peakRssMB = rss?.peakMB();
  log(`  ${result.rps} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}${result.errorSamples.length ? ` (${result.errorSamples.join(' | ')})` : ''}`);
  return { result, ...(peakRssMB !== undefined ? { peakRssMB } : {}) };
}

/**
 * The argon2id limit: the better of one verify per core in flight (what PasswordHasher admits
 * by default) and two per core; on 2 cores, 2 in flight measured 2-8 % above 4 (less cache
 * contention), so taking only 4 would have flattered the password ratio.
 */
export async function measureArgon2Limit(options: BenchOptions, limits: Limits): Promise<void> {
  const cores = os.availableParallelism();
  const timing = { warmupMs: options.limitWarmupMs, durationMs: options.limitDurationMs };
  const byInFlight: Record<string, number> = {};
  for (const inFlight of [cores, 2 * cores]) {
    log(`argon2id verify limit (m=${options.argon2.memoryCost} KiB t=${options.argon2.timeCost} p=${options.argon2.parallelism}, ${inFlight} in flight, UV_THREADPOOL_SIZE=${options.threadPool})`);
    const argon = await runChild<{ perSecond: number }>('bench/limits/argon2.ts', { ...options.argon2, inFlight, ...timing }, { UV_THREADPOOL_SIZE: String(options.threadPool) });
    byInFlight[inFlight] = argon.perSecond;
    log(`  argon2id verify ${argon.perSecond}/s`);
    if (argon.perSecond > (limits.argon2VerifyPerSec ?? 0)) {
      limits.argon2VerifyPerSec = argon.perSecond;
      limits.argon2InFlight = inFlight;
    }
  }
  limits.argon2ByInFlight = byInFlight;
}

export async function measureLimits(options: BenchOptions, rows: ScenarioRow[]): Promise<Limits> {
  const limits: Limits = { signPerSec: {}, signInFlight: 16 };
  if (!phaseSelected(options, 'limit')) return limits;
  const timing = { warmupMs: options.limitWarmupMs, durationMs: options.limitDurationMs };
  const pool = { UV_THREADPOOL_SIZE: String(options.threadPool) };
  // With the password scenario in the run, the argon2id limit is taken right before it instead
  // (same minute, same background load: the ratio is what is judged).
  if (selected(options, 'limit/argon2') && !selected(options, 'tessera/password')) await measureArgon2Limit(options, limits);
  if (selected(options, 'limit/sign')) {
    for (const alg of ['RS256', 'ES256'] as const) {
      const sign = await runChild<{ perSecond: number }>('bench/limits/sign.ts', { alg, inFlight: 16, ...timing }, pool);
      limits.signPerSec[alg] = sign.perSecond;
    }
    log(`  jose sign RS256 ${limits.signPerSec.RS256}/s, ES256 ${limits.signPerSec.ES256}/s`);
  }
  if (!selected(options, 'limit/empty-koa')) return limits;
  const koa = await startForked('bench/limits/empty-koa.ts', {}, pool);
  try {
    const rss = new RssSampler(koa.pid);
    rows.push({ id: 'limit/empty-koa', group: 'limit', name: 'empty Koa route', ...(await load(S.emptyRouteScenario(options, { host: HOST, port: koa.port }), rss)) });
    rss.stop();
  } finally {
    await koa.stop();
  }
  return limits;
}

/** Runs Tessera's scenarios; returns the server's peak RSS (MB) over all of them. */
export async function measureTessera(options: BenchOptions, databaseUrl: string, rows: ScenarioRow[], limits: Limits): Promise<number | undefined> {
  if (!phaseSelected(options, 'tessera')) return undefined;
  const port = await freePort();
  const env = tesseraEnv(options, databaseUrl, port);
  const userCount = Math.min(options.connections, 16);
  log(`seeding Tessera (${userCount} users, one client per alg) on ${databaseUrl.replace(/\/\/[^@]*@/, '//')}`);
  const seed = await seedTessera(env, userCount);
  log(`starting Tessera: NODE_ENV=production WEB_CONCURRENCY=${options.workers} on port ${port}`);
  const server = await startTessera(env, options);
  const rss = new RssSampler(server.pid);
  const target = { host: HOST, port };
  const base = `http://${HOST}:${port}`;
  const run = async (id: string, name: string, make: () => Promise<LoadSpec> | LoadSpec, skip?: string) => {
    if (!selected(options, id)) return;
    if (skip) {
      rows.push({ id, group: 'tessera', name, skipped: skip });
      log(`${id}: skipped (${skip})`);
      return;
    }
    rows.push({ id, group: 'tessera', name, ...(await load(await make(), rss)) });
  };
  let overallPeak = 0;
  try {
    const hasToken = await endpointExists(base, '/token');
    const hasIntrospect = await endpointExists(base, '/introspect');
    const noToken = hasToken ? undefined : 'POST /token not implemented';
    const { ES256: es, RS256: rs } = seed.clients;

    await run('tessera/jwks', 'GET /.well-known/jwks.json', () => S.jwksScenario(options, 'tessera/jwks', target));
    for (const c of [es, rs]) {
      const id = `tessera/client-credentials-${c.alg.toLowerCase()}`;
      await run(id, `client_credentials ${c.alg}`, () => S.clientCredentialsScenario(options, id, target, c.basic, c.alg, SERVICE_SCOPE), noToken);
    }
    if (selected(options, 'tessera/password') && selected(options, 'limit/argon2')) await measureArgon2Limit(options, limits);
    await run('tessera/password', 'password grant ES256', () => S.passwordScenario(options, 'tessera/password', target, es.basic, 'ES256', seed.users, USER_SCOPE), noToken);
    for (const c of [es, rs] as BenchClient[]) {
      const id = `tessera/refresh-${c.alg.toLowerCase()}`;
      await run(id, `refresh rotation ${c.alg}`, async () => {
        // Fresh logins, one chain per connection (the logins are not measured). With openid in
        // scope each refresh also signs an ID token, as the peer's does.
        const users = Array.from({ length: options.connections }, (_, i) => seed.users[i % seed.users.length]!);
        const logins = await passwordLogins(base, c, users);
        return S.refreshScenario(options, id, target, c.basic, c.alg, logins.map((l) => l.refresh_token), true);
      }, noToken);
    }
    await run('tessera/introspection', 'introspection of an access token', async () => {
      const [login] = await passwordLogins(base, es, seed.users.slice(0, 1), 1);
      return S.introspectionScenario(options, 'tessera/introspection', target, es.basic, login!.access_token);
    }, noToken ?? (hasIntrospect ? undefined : 'POST /introspect not implemented'));
    overallPeak = Math.max(rss.hwmMB(), ...rows.filter((r) => r.group === 'tessera' && r.peakRssMB !== undefined).map((r) => r.peakRssMB!));
  } finally {
    rss.stop();
    await server.stop();
  }
  return overallPeak;
}

const PEER_SECRETS = { ES256: 'peer-es256-secret-0123456789abcdef', RS256: 'peer-rs256-secret-0123456789abcdef' };

export async function measurePeer(options: BenchOptions, rows: ScenarioRow[]): Promise<number | undefined> {
  if (!phaseSelected(options, 'peer')) return undefined;
  const port = await freePort();
  const cfg: PeerConfig = {
    port,
    audience: 'https://api.bench.example',
    scope: 'openid offline_access api:read',
    clients: (['ES256', 'RS256'] as const).map((alg) => ({ clientId: `peer-${alg.toLowerCase()}`, secret: PEER_SECRETS[alg], alg })),
  };
  log(`starting node-oidc-provider peer on port ${port}`);
  const peer: ServiceProcess = await startForked('bench/peer/oidc-provider.ts', cfg);
  const rss = new RssSampler(peer.pid);
  const target = { host: HOST, port };
  try {
    for (const c of cfg.clients) {
      const id = `peer/client-credentials-${c.alg.toLowerCase()}`;
      if (!selected(options, id)) continue;
      const basic = `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`;
      rows.push({ id, group: 'peer', name: `client_credentials ${c.alg}`, ...(await load(S.clientCredentialsScenario(options, id, target, basic, c.alg, 'api:read'), rss)) });
    }
    for (const c of cfg.clients) {
      const id = `peer/refresh-${c.alg.toLowerCase()}`;
      if (!selected(options, id)) continue;
      const basic = `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`;
      const { tokens } = await peer.ask!<{ tokens: string[] }>({ freshLogins: { clientId: c.clientId, count: options.connections } });
      rows.push({ id, group: 'peer', name: `refresh rotation ${c.alg}`, ...(await load(S.refreshScenario(options, id, target, basic, c.alg, tokens, true), rss)) });
    }
    return Math.max(rss.hwmMB(), ...rows.filter((r) => r.group === 'peer' && r.peakRssMB !== undefined).map((r) => r.peakRssMB!));
  } finally {
    rss.stop();
    await peer.stop();
  }
}
