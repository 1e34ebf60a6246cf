/**
 * `npm run bench [-- --quick]`: Tessera's benchmark. Creates a throw-away PostgreSQL database,
 * measures the machine's limits (argon2id, jose signing, an empty Koa route), runs Tessera in
 * production mode and node-oidc-provider under the same load, and reports req/s, latency,
 * errors and peak RSS with ratios and pass/fail against the targets (issue 6).
 *
 * Exit code: 0 when the run completed without errors, even if a target was missed (CI runs
 * --quick on shared hardware and does not judge figures); 1 when the harness broke or any
 * scenario saw an error response (a run with errors is failed, not fast); 2 on bad options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBenchDatabase } from './database';
import { parseOptions, USAGE, type BenchOptions } from './options';
import { measureLimits, measureTessera, startPeer } from './phases';
import { killChildren, ROOT } from './processes';
import { runScale } from './scale/run-scale';
import { startCommand } from './tessera';
import {
  computeRatios,
  evaluateTargets,
  markdownReport,
  textReport,
  type Limits,
  type ScenarioRow,
} from './report';

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** "the 3 slices of its measured window" (before, between and after them), or "its measured window" (before and after it). */
const around = (o: BenchOptions, whose: string) =>
  o.slices === 1
    ? `${whose} measured window (before and after it)`
    : `the ${o.slices} slices of ${whose} measured window (before, between and after them)`;

function conditions(
  o: BenchOptions,
  m: ReturnType<typeof machine>,
  started: Date,
  seconds: number,
): string[] {
  return [
    `Run ${started.toISOString()} (${Math.round(seconds)} s${o.quick ? ', --quick' : ''}); machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average at start ${m.loadAverageAtStart.join(' ')}`,
    `Load: ${o.connections} keep-alive connections, closed loop, raw-socket HTTP/1.1 client in its own process on loopback; per scenario a warm-up of at least ${o.warmupMs / 1000} s and ${o.warmupRequests.toLocaleString('en-US')} correct answers (at most ${o.warmupMaxMs / 1000} s), then ${o.durationMs / 1000} s measured`,
    `Tessera: NODE_ENV=production, WEB_CONCURRENCY=${o.workers}, real PostgreSQL (fresh database), DB_POOL_SIZE ${o.dbPool ?? 'default (10)'} per process, argon2id m=${o.argon2.memoryCost} KiB t=${o.argon2.timeCost} p=${o.argon2.parallelism}, UV_THREADPOOL_SIZE=${o.threadPool}; as \`npm start\` runs it: ${startCommand()}`,
    "Peer: node-oidc-provider (in-memory store), JWT access tokens via resourceIndicators, refresh tokens rotated on every use, client_secret_basic; refresh chains start from fresh grants; each of its scenarios runs right before and right after Tessera's counterpart, and its row is the mean of the two",
    `Limits: argon2id verify, the better of cores and 2×cores in flight, under the server's MALLOC_* settings; with the password scenario, taken around ${around(o, 'its')} (after its warm-up) and averaged; jose SignJWT with 16 in flight; each in its own process; empty Koa route under the same load generator, likewise around ${around(o, "the JWKS scenario's")}`,
  ];
}

let interrupted = false;

/** The scale run (bench/scale): its own databases, scenarios and report. */
function runScaleBench(options: BenchOptions): Promise<number> {
  return runScale(options, (dbs) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        interrupted = true;
        process.stderr.write(`bench: ${signal}, stopping the servers and dropping the databases\n`);
        killChildren();
        void Promise.allSettled(dbs.map((db) => db.drop())).finally(() => process.exit(130));
      });
    }
  });
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    if (process.argv.includes('--help')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  if (options.scale !== undefined) return runScaleBench(options);
  const started = new Date();
  const m = machine();
  const rows: ScenarioRow[] = [];
  const db = await createBenchDatabase(options.databaseUrl);
  // Interrupted (Ctrl-C reaches the children too): still drop the throw-away database.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`bench: ${signal}, stopping the servers and dropping ${db.name}\n`);
      killChildren();
      void db.drop().finally(() => process.exit(130));
    });
  }
  let limits: Limits;
  let tesseraPeak: number | undefined;
  let peerPeak: number | undefined;
  try {
    const measured = await measureLimits(options, rows);
    limits = measured.limits;
    const peer = await startPeer(options);
    try {
      tesseraPeak = await measureTessera(options, db.url, rows, limits, measured.emptyRoute, peer);
      peerPeak = await peer?.finish(rows);
    } finally {
      await measured.emptyRoute?.stop();
      await peer?.stop();
    }
  } finally {
    await db
      .drop()
      .catch((err: unknown) =>
        process.stderr.write(`bench: could not drop ${db.name}: ${String(err)}\n`),
      );
  }
  const seconds = (Date.now() - started.getTime()) / 1000;

  const ratios = computeRatios(rows, limits);
  const targets = evaluateTargets(rows, limits, tesseraPeak);
  const failed = rows
    .filter((r) => r.result && r.result.errors > 0)
    .map((r) => `${r.id}: ${r.result!.errors} errors (${r.result!.errorSamples.join(' | ')})`);
  const data = { rows, limits, ratios, targets };
  const cond = conditions(options, m, started, seconds);

  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = {
    startedAt: started.toISOString(),
    seconds: Math.round(seconds),
    machine: { ...m, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    parameters: {
      quick: options.quick,
      workers: options.workers,
      connections: options.connections,
      warmupMs: options.warmupMs,
      warmupRequests: options.warmupRequests,
      durationMs: options.durationMs,
      dbPoolSize: options.dbPool ?? 'default',
      argon2: options.argon2,
      uvThreadPoolSize: options.threadPool,
      only: options.only,
    },
    conditions: cond,
    limits,
    scenarios: rows,
    peakRssMB: { tessera: tesseraPeak, peer: peerPeak },
    ratios,
    targets,
    failed,
  };
  writeFileSync(path.join(dir, `${options.out}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(
    path.join(dir, `${options.out}.md`),
    markdownReport(data, {
      title: `Tessera benchmark${options.quick ? ' (quick)' : ''}`,
      conditions: [
        ...cond,
        `Peak RSS: Tessera ${tesseraPeak ?? '—'} MB, peer ${peerPeak ?? '—'} MB`,
      ],
      failed,
    }),
  );

  process.stdout.write(
    `\n${cond.map((c) => `  ${c}`).join('\n')}\n\n${textReport(data)}\n\npeak RSS: Tessera ${tesseraPeak ?? '—'} MB, peer ${peerPeak ?? '—'} MB\n`,
  );
  process.stdout.write(
    `results: bench/results/${options.out}.json, bench/results/${options.out}.md\n`,
  );
  if (failed.length) {
    process.stderr.write(`bench: FAILED — scenarios with errors:\n  ${failed.join('\n  ')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (interrupted) return; // the signal handler exits once the database is dropped
    process.stderr.write(
      `bench: harness error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
