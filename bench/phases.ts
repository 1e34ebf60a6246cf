/**
 * The three phases of a run — the machine's limits, Tessera, the peer — each adding its rows.
 * Every server and every load generator is a child process; this process only orchestrates.
 * Whatever a Tessera figure is judged against is measured next to it and averaged: the
 * argon2id limit and the empty route before, between and after the slices of the password and
 * JWKS scenarios (alternate), the peer right before and right after its counterparts. A
 * shared machine's speed drifts, and a ratio of two figures taken minutes apart would measure
 * that drift as much as the server.
 */
import os from 'node:os';
import type { LoadResult, LoadSpec } from './load/spec';
import type { BenchOptions } from './options';
import { phaseSelected, selected } from './options';
import { freePort, runChild, RssSampler, startForked, type ServiceProcess } from './processes';
import type { Limits, ScenarioRow } from './report';
import * as S from './scenarios';
import {
  endpointExists,
  mallocTuning,
  passwordLogins,
  seedTessera,
  SERVICE_SCOPE,
  startTessera,
  tesseraEnv,
  USER_SCOPE,
  type BenchClient,
} from './tessera';
import type { PeerConfig } from './peer/oidc-provider';
import { dpopProofKey } from './tessera';

const HOST = '127.0.0.1';
const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);

/** One load run: its result and the server's peak RSS during it (when sampled). */
export type Run = { result: LoadResult; peakRssMB?: number };

export async function load(spec: LoadSpec, rss?: RssSampler): Promise<Run> {
  log(
    `${spec.name}: ${spec.connections} connections, warm-up ≥ ${spec.warmupMs / 1000} s and ≥ ${spec.warmupRequests} answers (≤ ${spec.warmupMaxMs / 1000} s), then ${spec.durationMs / 1000} s`,
  );
  rss?.restart();
  const result = await runChild<LoadResult>('bench/load/worker.ts', spec);
  rss?.sample();
  const peakRssMB = rss?.peakMB();
  log(
    `  ${result.rps} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}${result.errorSamples.length ? ` (${result.errorSamples.join(' | ')})` : ''}`,
  );
  return { result, ...(peakRssMB !== undefined ? { peakRssMB } : {}) };
}

/** All runs' errors: an error in any fails the scenario. */
function errorsOf(...runs: LoadResult[]): Pick<LoadResult, 'errors' | 'errorSamples'> {
  return {
    errors: runs.reduce((n, r) => n + r.errors, 0),
    errorSamples: [...new Set(runs.flatMap((r) => r.errorSamples))].slice(0, 5),
  };
}

/** The highest peak RSS of several runs of one scenario (none when none was sampled). */
function higherPeak(...runs: Run[]): { peakRssMB?: number } {
  const peaks = runs.map((r) => r.peakRssMB).filter((p): p is number => p !== undefined);
  return peaks.length ? { peakRssMB: Math.max(...peaks) } : {};
}

/**
 * The argon2id limit at each in-flight count: one verify per core (what PasswordHasher admits
 * by default) and two per core. Either can be the faster on a given machine (cache contention
 * against idle gaps), so the limit is the better of the two and never flatters the password
 * ratio.
 */
export async function argon2Rates(
  options: BenchOptions,
  when = '',
  timing = { warmupMs: options.limitWarmupMs, durationMs: options.limitDurationMs },
): Promise<Record<string, number>> {
  const cores = os.availableParallelism();
  const rates: Record<string, number> = {};
  for (const inFlight of [cores, 2 * cores]) {
    log(
      `argon2id verify limit${when} (m=${options.argon2.memoryCost} KiB t=${options.argon2.timeCost} p=${options.argon2.parallelism}, ${inFlight} in flight, UV_THREADPOOL_SIZE=${options.threadPool})`,
    );
    const argon = await runChild<{ perSecond: number }>(
      'bench/limits/argon2.ts',
      { ...options.argon2, inFlight, ...timing },
      { UV_THREADPOOL_SIZE: String(options.threadPool), ...mallocTuning() },
    );
    rates[inFlight] = argon.perSecond;
    log(`  argon2id verify ${argon.perSecond}/s`);
  }
  return rates;
}

/** Sets the limit to the best in-flight count's rate (each rate the mean of `samples`). */
export function setArgon2Limit(limits: Limits, samples: Record<string, number>[]): void {
  const byInFlight: Record<string, number> = {};
  for (const inFlight of Object.keys(samples[0]!)) {
    const mean = samples.reduce((sum, s) => sum + s[inFlight]!, 0) / samples.length;
    byInFlight[inFlight] = Math.round(mean * 10) / 10;
    if (byInFlight[inFlight] > (limits.argon2VerifyPerSec ?? 0)) {
      limits.argon2VerifyPerSec = byInFlight[inFlight];
      limits.argon2InFlight = Number(inFlight);
    }
  }
  limits.argon2ByInFlight = byInFlight;
}

/** One slice of a scenario's measured time: a short ramp (the server is warm), then 1/n of the window. */
function sliceOf(options: BenchOptions, spec: LoadSpec, i: number): LoadSpec {
  const n = options.slices;
  return {
    ...spec,
    name: `${spec.name} (slice ${i}/${n})`,
    warmupRequests: 0,
    warmupMs: options.quick ? 500 : 1000,
    durationMs: Math.ceil(spec.durationMs / n),
  };
}

/**
 * A Tessera scenario and the reference it is judged against, measured so that the machine's
 * drift cannot decide the ratio: a shared machine's speed can move within minutes, even
 * within seconds. So the scenario first runs its warm-up alone (its answers are not counted;
 * its errors are), then its measured time is cut into `options.slices` slices with the reference taken before
 * the first, between each two and after the last: R S R S R S R. The scenario's rate is over
 * all its slices and the reference's the mean of its runs, so a drift slower than a slice moves
 * both sides alike. Each slice drains before the next reference runs.
 */
async function alternate<R>(
  options: BenchOptions,
  spec: LoadSpec,
  rss: RssSampler,
  reference: (i: number) => Promise<R>,
): Promise<{ run: Run; references: R[] }> {
  const warm = await load({ ...spec, name: `${spec.name} (warm-up)`, durationMs: 1000 }, rss);
  const references = [await reference(0)];
  const slices: Run[] = [];
  for (let i = 1; i <= options.slices; i++) {
    slices.push(await load(sliceOf(options, spec, i), rss));
    references.push(await reference(i));
  }
  const result = combineRuns(slices.map((r) => r.result));
  const run = {
    result: {
      ...result,
      ...errorsOf(warm.result, result),
      // The warm-up run (its own warm-up and its 1 s window) and each slice's ramp.
      warmupMs: warm.result.warmupMs + 1000 + slices.reduce((ms, r) => ms + r.result.warmupMs, 0),
    },
    ...higherPeak(warm, ...slices),
  };
  return { run, references };
}

/** The password grant around its argon2id limit (alternate); the limit is the best in-flight count's mean. */
async function measurePassword(
  options: BenchOptions,
  spec: LoadSpec,
  rss: RssSampler,
  limits: Limits,
): Promise<Run> {
  const n = options.slices;
  const timing = {
    warmupMs: 500,
    durationMs: Math.max(1000, Math.round(options.limitDurationMs / 2)),
  };
  const where = (i: number) =>
    i === 0 ? `before password slice 1/${n}` : `after password slice ${i}/${n}`;
  const { run, references } = await alternate(options, spec, rss, (i) =>
    argon2Rates(options, ` ${where(i)}`, timing),
  );
  setArgon2Limit(limits, references);
  limits.argon2Samples = references;
  return run;
}

/**
 * The empty Koa route's server, kept running after measureLimits when the JWKS scenario is in
 * the run: the JWKS scenario is then measured in slices around it (`around`, see alternate).
 */
export interface EmptyRoute {
  around(jwks: LoadSpec, rss: RssSampler): Promise<Run>;
  stop(): Promise<void>;
}

/** Runs of one scenario as one: requests and seconds summed (so req/s over all of them), latency and generator CPU the worst run's. */
function combineRuns(runs: LoadResult[]): LoadResult {
  const worst = (k: 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs' | 'generatorCpu') =>
    Math.max(...runs.map((r) => r[k]));
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  return {
    ...runs[0]!,
    requests,
    seconds,
    rps: Math.round((requests / seconds) * 10) / 10,
    p50Ms: worst('p50Ms'),
    p90Ms: worst('p90Ms'),
    p99Ms: worst('p99Ms'),
    maxMs: worst('maxMs'),
    generatorCpu: worst('generatorCpu'),
    ...errorsOf(...runs),
    bodiesChecked: runs.reduce((n, r) => n + r.bodiesChecked, 0),
  };
}

export async function measureLimits(
  options: BenchOptions,
  rows: ScenarioRow[],
): Promise<{ limits: Limits; emptyRoute?: EmptyRoute }> {
  const limits: Limits = { signPerSec: {}, signInFlight: 16 };
  if (!phaseSelected(options, 'limit')) return { limits };
  const timing = { warmupMs: options.limitWarmupMs, durationMs: options.limitDurationMs };
  const pool = { UV_THREADPOOL_SIZE: String(options.threadPool) };
  // With the password scenario in the run, the argon2id limit is taken around its slices instead
  // (measurePassword: same minute, same background load; the ratio is what is judged).
  if (selected(options, 'limit/argon2') && !selected(options, 'tessera/password'))
    setArgon2Limit(limits, [await argon2Rates(options)]);
  if (selected(options, 'limit/sign')) {
    for (const alg of ['RS256', 'ES256'] as const) {
      const sign = await runChild<{ perSecond: number }>(
        'bench/limits/sign.ts',
        { alg, inFlight: 16, ...timing },
        pool,
      );
      limits.signPerSec[alg] = sign.perSecond;
    }
    log(`  jose sign RS256 ${limits.signPerSec.RS256}/s, ES256 ${limits.signPerSec.ES256}/s`);
  }
  if (!selected(options, 'limit/empty-koa')) return { limits };
  const koa = await startForked('bench/limits/empty-koa.ts', {}, pool);
  const rss = new RssSampler(koa.pid);
  const stop = async () => {
    rss.stop();
    await koa.stop();
  };
  const spec = S.emptyRouteScenario(options, { host: HOST, port: koa.port });
  const row: ScenarioRow = { id: 'limit/empty-koa', group: 'limit', name: 'empty Koa route' };
  rows.push(row);
  if (!selected(options, 'tessera/jwks')) {
    try {
      Object.assign(row, await load(spec, rss));
    } finally {
      await stop();
    }
    return { limits };
  }
  const around = async (jwks: LoadSpec, jwksRss: RssSampler) => {
    try {
      // Its first run warms it up as a scenario of its own would; the later ones are slices.
      const first = { ...spec, durationMs: Math.ceil(spec.durationMs / options.slices) };
      const { run, references } = await alternate(options, jwks, jwksRss, (i) =>
        load(i === 0 ? first : sliceOf(options, spec, i), rss),
      );
      Object.assign(row, {
        result: combineRuns(references.map((r) => r.result)),
        ...higherPeak(...references),
      });
      limits.emptyRouteSamples = references.map((r) => r.result.rps);
      return run;
    } finally {
      await stop();
    }
  };
  return { limits, emptyRoute: { around, stop } };
}

/** Runs Tessera's scenarios; returns the server's peak RSS (MB) over all of them. */
export async function measureTessera(
  options: BenchOptions,
  databaseUrl: string,
  rows: ScenarioRow[],
  limits: Limits,
  emptyRoute?: EmptyRoute,
  peer?: Peer,
): Promise<number | undefined> {
  if (!phaseSelected(options, 'tessera')) return undefined;
  const port = await freePort();
  const env = tesseraEnv(options, databaseUrl, port);
  const userCount = Math.min(options.connections, 16);
  log(
    `seeding Tessera (${userCount} users, one client per alg) on ${databaseUrl.replace(/\/\/[^@]*@/, '//')}`,
  );
  const seed = await seedTessera(env, userCount);
  log(`starting Tessera: NODE_ENV=production WEB_CONCURRENCY=${options.workers} on port ${port}`);
  const server = await startTessera(env, options);
  const rss = new RssSampler(server.pid);
  const target = { host: HOST, port };
  const base = `http://${HOST}:${port}`;
  const run = async (
    id: string,
    name: string,
    make: () => Promise<LoadSpec> | LoadSpec,
    skip?: string,
  ) => {
    if (!selected(options, id)) return;
    if (skip) {
      rows.push({ id, group: 'tessera', name, skipped: skip });
      log(`${id}: skipped (${skip})`);
      return;
    }
    const measure = async () => {
      rows.push({ id, group: 'tessera', name, ...(await load(await make(), rss)) });
    };
    // A scenario the peer also runs is measured between two of the peer's runs.
    await (peer ? peer.around(id, measure) : measure());
  };
  let overallPeak: number;
  try {
    const hasToken = await endpointExists(base, '/token');
    const hasIntrospect = await endpointExists(base, '/introspect');
    const noToken = hasToken ? undefined : 'POST /token not implemented';
    const { ES256: es, RS256: rs } = seed.clients;

    const jwks = S.jwksScenario(options, 'tessera/jwks', target);
    // The empty route is kept up for JWKS only when tessera/jwks is selected (measureLimits).
    if (emptyRoute) {
      rows.push({
        id: 'tessera/jwks',
        group: 'tessera',
        name: 'GET /.well-known/jwks.json',
        ...(await emptyRoute.around(jwks, rss)),
      });
    } else await run('tessera/jwks', 'GET /.well-known/jwks.json', () => jwks);
    for (const c of [es, rs]) {
      const id = `tessera/client-credentials-${c.alg.toLowerCase()}`;
      await run(
        id,
        `client_credentials ${c.alg}`,
        () => S.clientCredentialsScenario(options, id, target, c.basic, c.alg, SERVICE_SCOPE),
        noToken,
      );
    }
    // Beside the Bearer ES256 row: the same grant with a fresh DPoP proof on every request.
    await run(
      'tessera/client-credentials-dpop-es256',
      'client_credentials ES256 with DPoP',
      async () =>
        S.dpopClientCredentialsScenario(
          options,
          'tessera/client-credentials-dpop-es256',
          target,
          es.basic,
          es.alg,
          SERVICE_SCOPE,
          { ...(await dpopProofKey()), issuer: base },
        ),
      noToken,
    );
    const password = () =>
      S.passwordScenario(
        options,
        'tessera/password',
        target,
        es.basic,
        'ES256',
        seed.users,
        USER_SCOPE,
      );
    if (selected(options, 'tessera/password') && selected(options, 'limit/argon2') && !noToken) {
      rows.push({
        id: 'tessera/password',
        group: 'tessera',
        name: 'password grant ES256',
        ...(await measurePassword(options, password(), rss, limits)),
      });
    } else await run('tessera/password', 'password grant ES256', password, noToken);
    for (const c of [es, rs] as BenchClient[]) {
      const id = `tessera/refresh-${c.alg.toLowerCase()}`;
      await run(
        id,
        `refresh rotation ${c.alg}`,
        async () => {
          // Fresh logins, one chain per connection (the logins are not measured). With openid in
          // scope each refresh also signs an ID token, as the peer's does.
          const users = Array.from(
            { length: options.connections },
            (_, i) => seed.users[i % seed.users.length]!,
          );
          const logins = await passwordLogins(base, c, users);
          return S.refreshScenario(
            options,
            id,
            target,
            c.basic,
            c.alg,
            logins.map((l) => l.refresh_token),
            true,
          );
        },
        noToken,
      );
    }
    await run(
      'tessera/introspection',
      'introspection of an access token',
      async () => {
        const [login] = await passwordLogins(base, es, seed.users.slice(0, 1), 1);
        return S.introspectionScenario(
          options,
          'tessera/introspection',
          target,
          es.basic,
          login!.access_token,
        );
      },
      noToken ?? (hasIntrospect ? undefined : 'POST /introspect not implemented'),
    );
    overallPeak = Math.max(
      rss.hwmMB(),
      ...rows
        .filter((r) => r.group === 'tessera' && r.peakRssMB !== undefined)
        .map((r) => r.peakRssMB!),
    );
  } finally {
    rss.stop();
    await server.stop();
  }
  return overallPeak;
}

const PEER_SECRETS = {
  ES256: 'peer-es256-secret-0123456789abcdef',
  RS256: 'peer-rs256-secret-0123456789abcdef',
};

/** The peer's scenario ids, each the counterpart of the Tessera scenario of the same name. */
const PEER_IDS = [
  'peer/client-credentials-es256',
  'peer/client-credentials-rs256',
  'peer/refresh-es256',
  'peer/refresh-rs256',
] as const;

/**
 * node-oidc-provider, started before Tessera's scenarios and kept up through them, so that each
 * of its scenarios is measured right before and right after its Tessera counterpart
 * (`around`): the two sides of a "vs the peer" ratio then see the same machine, as the limits
 * do. Its rows (the mean of the two runs) are added after Tessera's (`finish`).
 */
export interface Peer {
  around(tesseraId: string, tessera: () => Promise<void>): Promise<void>;
  /** Runs the peer scenarios that had no Tessera counterpart in this run; returns the peak RSS. */
  finish(rows: ScenarioRow[]): Promise<number>;
  stop(): Promise<void>;
}

export async function startPeer(options: BenchOptions): Promise<Peer | undefined> {
  if (!phaseSelected(options, 'peer')) return undefined;
  const port = await freePort();
  const cfg: PeerConfig = {
    port,
    audience: 'https://api.bench.example',
    scope: 'openid offline_access api:read',
    clients: (['ES256', 'RS256'] as const).map((alg) => ({
      clientId: `peer-${alg.toLowerCase()}`,
      secret: PEER_SECRETS[alg],
      alg,
    })),
  };
  log(`starting node-oidc-provider peer on port ${port}`);
  const peer: ServiceProcess = await startForked('bench/peer/oidc-provider.ts', cfg);
  const rss = new RssSampler(peer.pid);
  const target = { host: HOST, port };
  const client = (id: string) => cfg.clients.find((c) => id.endsWith(c.alg.toLowerCase()))!;
  const measure = async (id: string) => {
    const c = client(id);
    const basic = `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`;
    if (id.startsWith('peer/client-credentials'))
      return load(S.clientCredentialsScenario(options, id, target, basic, c.alg, 'api:read'), rss);
    const { tokens } = await peer.ask!<{ tokens: string[] }>({
      freshLogins: { clientId: c.clientId, count: options.connections },
    });
    return load(S.refreshScenario(options, id, target, basic, c.alg, tokens, true), rss);
  };
  const name = (id: string) =>
    `${id.includes('refresh') ? 'refresh rotation' : 'client_credentials'} ${client(id).alg}`;
  const measured: ScenarioRow[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    rss.stop();
    await peer.stop();
  };
  return {
    async around(tesseraId, tessera) {
      const id = tesseraId.replace(/^tessera\//, 'peer/');
      if (!(PEER_IDS as readonly string[]).includes(id) || !selected(options, id)) return tessera();
      const before = await measure(id);
      await tessera();
      const after = await measure(id);
      measured.push({
        id,
        group: 'peer',
        name: name(id),
        result: combineRuns([before.result, after.result]),
        ...higherPeak(before, after),
        around: [before.result.rps, after.result.rps],
      });
    },
    async finish(rows) {
      try {
        for (const id of PEER_IDS) {
          if (!selected(options, id) || measured.some((r) => r.id === id)) continue;
          measured.push({ id, group: 'peer', name: name(id), ...(await measure(id)) });
        }
        rows.push(
          ...PEER_IDS.map((id) => measured.find((r) => r.id === id)).filter(
            (r): r is ScenarioRow => r !== undefined,
          ),
        );
        return Math.max(
          rss.hwmMB(),
          ...measured.filter((r) => r.peakRssMB !== undefined).map((r) => r.peakRssMB!),
        );
      } finally {
        await stop();
      }
    },
    stop,
  };
}
