/** `npm run bench -- [options]`: parsed once; defaults give the full, judged run. */
import { threadPoolSize } from '../src/accounts/passwords';

export interface BenchOptions {
  quick: boolean;
  workers: number;
  connections: number;
  warmupMs: number;
  /** The warm-up also lasts until this many correct answers (capped at warmupMaxMs). */
  warmupRequests: number;
  warmupMaxMs: number;
  durationMs: number;
  limitWarmupMs: number;
  limitDurationMs: number;
  /** The password and JWKS scenarios' measured time is cut into this many slices, their reference (argon2id limit, empty route) taken before, between and after them. */
  slices: number;
  /** Only run scenarios whose id contains one of these (limits/peer/tessera or a name). */
  only: string[];
  cpuProf: boolean;
  /** Base name of the result files in bench/results/ (default latest). */
  out: string;
  /** DB_POOL_SIZE for Tessera; undefined keeps Tessera's default. */
  dbPool: number | undefined;
  databaseUrl: string;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  /** `--scale [N]`: the scale run (bench/scale) at N × the reference volumes; undefined for the regular run. */
  scale: number | undefined;
  /** libuv pool threads for the server and the argon2 limit alike (default: what the server gives itself). */
  threadPool: number;
}

export const USAGE = `usage: npm run bench -- [--quick] [--workers N] [--connections N] [--duration S] [--warmup S]
                          [--slices N] [--only id[,id...]] [--db-pool N] [--cpu-prof] [--out NAME]
                          [--scale [N]]
  --quick         ~1 minute smoke run (3 s per scenario), as CI runs it
  --workers N     Tessera worker processes (WEB_CONCURRENCY), default 1
  --connections N keep-alive connections of the load generator, default 64
  --duration S    measured seconds per scenario (default 10, quick 3)
  --warmup S      warm-up seconds per scenario, at least (default 2, quick 1)
  --warmup-requests N  the warm-up also lasts until N correct answers, at most 30 s
                  (default 1000, quick 0): JIT tier-up is counted in calls, so a slow
                  scenario (the password grant) needs longer to run its code warm
  --slices N      the password grant's and JWKS's measured time in N slices, with their
                  reference (argon2id limit, empty Koa route) taken before, between and
                  after them (default 3, quick 1)
  --only ids      run only matching scenarios (e.g. limits,peer,tessera,refresh)
  --db-pool N     Tessera's DB_POOL_SIZE (connections per process), default Tessera's own
  --cpu-prof      write a V8 CPU profile of the Tessera server to bench/results/profiles/
  --out NAME      write bench/results/NAME.json and NAME.md (default latest, scale with --scale)
  --scale [N]     the scale run instead (bench/scale): an empty and a bulk-loaded database
                  (N × 1,000,000 users, 100,000 clients, ..., default N = 1), the hot
                  scenarios on both as loaded/empty ratios, and WEB_CONCURRENCY 2 beside 1
Environment: DATABASE_URL (server to create the throw-away database on; default
postgres://postgres@127.0.0.1:5432/postgres), ARGON2_MEMORY_KIB / ARGON2_TIME_COST /
ARGON2_PARALLELISM (default OWASP's 19456 / 2 / 1), UV_THREADPOOL_SIZE.`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value\n${USAGE}`);
    return v;
  };
  const known = new Set([
    '--quick',
    '--workers',
    '--connections',
    '--duration',
    '--warmup',
    '--warmup-requests',
    '--slices',
    '--only',
    '--db-pool',
    '--cpu-prof',
    '--out',
    '--scale',
    '--help',
  ]);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a)) throw new Error(`unknown option ${a}\n${USAGE}`);
  const int = (name: string, def: number, min: number): number => {
    const v = get(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}`);
    return n;
  };
  const quick = argv.includes('--quick');
  const scale = scaleOption(argv);
  const out = get('out');
  if (out !== undefined && !/^[\w.-]+$/.test(out))
    throw new Error('--out is a file name: letters, digits, . _ -');
  return {
    quick,
    workers: int('workers', 1, 1),
    connections: int('connections', 64, 1),
    warmupMs: int('warmup', quick ? 1 : 2, 0) * 1000,
    warmupRequests: int('warmup-requests', quick ? 0 : 1000, 0),
    warmupMaxMs: 30_000,
    durationMs: int('duration', quick ? 3 : 10, 1) * 1000,
    limitWarmupMs: quick ? 500 : 1000,
    limitDurationMs: quick ? 2000 : 5000,
    slices: int('slices', quick ? 1 : 3, 1),
    only: (get('only') ?? '').split(',').filter(Boolean),
    cpuProf: argv.includes('--cpu-prof'),
    out: out ?? (scale === undefined ? 'latest' : 'scale'),
    dbPool: get('db-pool') === undefined ? undefined : int('db-pool', 10, 1),
    databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    argon2: {
      memoryCost: Number(process.env.ARGON2_MEMORY_KIB ?? 19456),
      timeCost: Number(process.env.ARGON2_TIME_COST ?? 2),
      parallelism: Number(process.env.ARGON2_PARALLELISM ?? 1),
    },
    threadPool: Number(process.env.UV_THREADPOOL_SIZE || threadPoolSize(undefined)),
    scale,
  };
}

/** `--scale` alone is 1; `--scale N` takes N when it is a positive number. */
function scaleOption(argv: readonly string[]): number | undefined {
  const i = argv.indexOf('--scale');
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) return 1;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--scale must be a positive number, not ${v}`);
  return n;
}

/** Every scenario id, by phase: `--only` matches substrings of these. */
export const SCENARIO_IDS = {
  limit: ['limit/argon2', 'limit/sign', 'limit/empty-koa'],
  tessera: [
    'tessera/jwks',
    'tessera/client-credentials-es256',
    'tessera/client-credentials-rs256',
    'tessera/client-credentials-dpop-es256',
    'tessera/password',
    'tessera/refresh-es256',
    'tessera/refresh-rs256',
    'tessera/introspection',
  ],
  peer: [
    'peer/client-credentials-es256',
    'peer/client-credentials-rs256',
    'peer/refresh-es256',
    'peer/refresh-rs256',
  ],
} as const;

export function selected(options: BenchOptions, id: string): boolean {
  return options.only.length === 0 || options.only.some((o) => id.includes(o));
}

/** True when any scenario of the phase is selected (the phase's server must start). */
export function phaseSelected(options: BenchOptions, phase: keyof typeof SCENARIO_IDS): boolean {
  return SCENARIO_IDS[phase].some((id) => selected(options, id));
}
