/**
 * `npm run bench -- --scale [N]`: two throw-away databases, one left empty and one bulk-loaded
 * to N × the reference volumes (load-data.ts); the hot scenarios on empty, loaded, empty again;
 * then WEB_CONCURRENCY 2 beside 1. Writes bench/results/<out>.json and .md.
 *
 * Exit code as the regular run's: 1 when any scenario saw an error response, else 0 (figures
 * are reported, not judged by the exit code).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBenchDatabase, type BenchDatabase } from '../database';
import type { BenchOptions } from '../options';
import { ROOT } from '../processes';
import { PASSWORD_CONNECTIONS } from '../scenarios';
import { startCommand } from '../tessera';
import { bulkLoad, databaseSizes, volumesAt } from './load-data';
import { log, measurePass, middleUsers, SCALE_SCENARIOS, seedScaleDatabase } from './measure';
import {
  scaleFailures,
  scaleMarkdown,
  scaleRatios,
  scaleText,
  workerRatios,
  passwordVsLimit,
  type ScaleData,
} from './report';

export async function runScale(
  options: BenchOptions,
  registerDrop: (dbs: BenchDatabase[]) => void,
): Promise<number> {
  const scale = options.scale!;
  const started = new Date();
  const volumes = volumesAt(scale);
  const empty = await createBenchDatabase(options.databaseUrl);
  const loaded = await createBenchDatabase(options.databaseUrl);
  registerDrop([empty, loaded]);
  let data: ScaleData;
  try {
    log(`seeding ${empty.name} (stays empty) and ${loaded.name} (to be loaded)`);
    const emptyDb = await seedScaleDatabase(options, empty.url);
    const loadedDb = await seedScaleDatabase(options, loaded.url);
    // Every relation before, so each of the largest after has its size before beside it.
    const sizesBefore = await databaseSizes(loaded.url, 10_000);
    log(`bulk-loading ${loaded.name} at --scale ${scale}`);
    const t0 = Date.now();
    const loadSteps = await bulkLoad(loaded.url, volumes, options.argon2, log);
    log(`loaded in ${Math.round((Date.now() - t0) / 1000)} s`);
    const sizesAfter = await databaseSizes(loaded.url);
    loadedDb.loginUsers = middleUsers(volumes, PASSWORD_CONNECTIONS);

    const emptyBefore = await measurePass(options, emptyDb, 'empty-before', 1, SCALE_SCENARIOS);
    const loadedPass = await measurePass(options, loadedDb, 'loaded', 1, SCALE_SCENARIOS);
    const emptyAfter = await measurePass(options, emptyDb, 'empty-after', 1, SCALE_SCENARIOS);
    const pair = ['client-credentials', 'refresh'] as const;
    const workers1 = await measurePass(options, emptyDb, 'workers-1', 1, pair);
    const workers2 = await measurePass(options, emptyDb, 'workers-2', 2, pair);
    data = {
      scale,
      volumes,
      loadSteps,
      sizesBefore,
      sizesAfter,
      emptyBefore,
      loaded: loadedPass,
      emptyAfter,
      workers1,
      workers2,
    };
  } finally {
    for (const db of [empty, loaded])
      await db
        .drop()
        .catch((err: unknown) =>
          process.stderr.write(`bench: could not drop ${db.name}: ${String(err)}\n`),
        );
  }
  const seconds = Math.round((Date.now() - started.getTime()) / 1000);
  const cpus = os.cpus();
  const conditions = [
    `Run ${started.toISOString()} (${seconds} s${options.quick ? ', --quick' : ''}); machine: ${os.availableParallelism()} cores (${cpus[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `Load: ${options.connections} keep-alive connections (password ${Math.min(options.connections, PASSWORD_CONNECTIONS)}, browser login 8 lanes), closed loop; per scenario a warm-up of at least ${options.warmupMs / 1000} s and ${options.warmupRequests} answers, then ${options.durationMs / 1000} s measured`,
    `Databases: two fresh ones on the same PostgreSQL, each seeded alike; one bulk-loaded (INSERT … SELECT generate_series into the real tables, then ANALYZE). Order: empty, loaded, empty again; a ratio is loaded over the mean of the two empty passes. The revocation scenario revokes live refresh-token families of its client, one per request, inserted before each pass`,
    `Password and browser login on the loaded database log in users from the middle of the users table; on the empty one the seeded users`,
    `WEB_CONCURRENCY 2 beside 1: client_credentials and refresh on the empty database, a server with 1 worker then one with 2, back to back; PostgreSQL and the load generator share the same cores`,
    `Tessera: ${startCommand()}`,
  ];
  const failed = scaleFailures(data);
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = {
    startedAt: started.toISOString(),
    seconds,
    conditions,
    ...data,
    ratios: scaleRatios(data),
    passwordVsArgon2Limit: passwordVsLimit(data),
    workers: workerRatios(data),
    failed,
  };
  writeFileSync(path.join(dir, `${options.out}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(path.join(dir, `${options.out}.md`), scaleMarkdown(data, conditions, failed));
  process.stdout.write(
    `\n${scaleText(data)}\n\nresults: bench/results/${options.out}.json, bench/results/${options.out}.md\n`,
  );
  if (failed.length) {
    process.stderr.write(`bench: FAILED — scenarios with errors:\n  ${failed.join('\n  ')}\n`);
    return 1;
  }
  return 0;
}
