/**
 * `npm start`: load config → open database → migrate → keys → app → listen; SIGTERM/SIGINT
 * shut down gracefully. WEB_CONCURRENCY > 1 forks that many workers (Node cluster) after the
 * primary has migrated the database and made sure keys exist.
 *
 * On PostgreSQL the migrations run in a short-lived child process of this same program
 * (TESSERA_MIGRATE_ONLY=1): Prisma's schema engine is a WebAssembly module whose memory, once
 * loaded, stays for the life of the process, and migrating is over before the first request,
 * so the server never holds the engine. The embedded database lives inside this process, so
 * there it migrates in place.
 */
import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import v8 from 'node:v8';
import { ConfigError, loadConfig, type Config } from './config';
import { loadDotEnv } from './config/dotenv';
import { migrateDatabase } from './db/migrations';
import { threadPoolSize } from './accounts/passwords';
import { KekError } from './keys/envelope';
import { startServer, openServices } from './server';
import { createLogger } from './shared/logger';
import { printBanner } from './seed/banner';

// Prisma's query compiler and schema engine are WebAssembly. V8's optimising tier keeps a
// second, larger compiled copy of them in resident memory; baseline (Liftoff) code is enough
// here because the hot paths use prepared SQL (Database.sql), not Prisma's model queries.
// A performance bypass (docs/performance.md). Set before the first query compiles the module;
// an explicit V8 flag on the command line still wins.
if (!process.execArgv.some((a) => a.includes('liftoff') || a.includes('wasm-tier')))
  v8.setFlagsFromString('--liftoff-only');

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    // .env first (the real environment wins); workers and the migration child inherit the result.
    loadDotEnv();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  // libuv sizes its pool on first use, which is later (the first DNS lookup or hash); workers
  // and the migration child inherit it. An operator's UV_THREADPOOL_SIZE wins.
  if (!process.env.UV_THREADPOOL_SIZE)
    process.env.UV_THREADPOOL_SIZE = String(threadPoolSize(config.PASSWORD_HASH_CONCURRENCY));

  if (process.env[MIGRATE_ONLY] === '1') {
    await migrate(config, log);
    // The schema engine may leave handles behind; this process has nothing else to do.
    process.exit(0);
  }
  const isWorker = process.env.TESSERA_WORKER === '1';
  // Workers find the database migrated by the primary.
  const migrated = !config.embedded && !isWorker && (await migrateInChild());

  if (config.WEB_CONCURRENCY > 1 && cluster.isPrimary && !config.embedded) {
    // Migrate and create keys once, then fork; workers skip migrations.
    const services = await openServices(config, log, { skipMigrations: migrated });
    await services.db.close();
    for (let i = 0; i < config.WEB_CONCURRENCY; i++) cluster.fork({ TESSERA_WORKER: '1' });
    cluster.on('exit', (worker, code, signal) => {
      if (!shuttingDown) {
        log.error({ pid: worker.process.pid, code, signal }, 'worker exited; starting a new one');
        cluster.fork({ TESSERA_WORKER: '1' });
      }
    });
    let shuttingDown = false;
    const stop = () => {
      shuttingDown = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    log.info({ workers: config.WEB_CONCURRENCY, port: config.PORT }, 'tessera primary started');
    return;
  }

  const server = await startServer(config, log, { skipMigrations: isWorker || migrated });
  log.info(
    { url: server.url, issuer: config.issuer, database: config.embedded ? 'embedded' : 'postgres' },
    'tessera listening',
  );
  if (server.demo && !process.env.TESSERA_WORKER) printBanner(config, server.demo);

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

const MIGRATE_ONLY = 'TESSERA_MIGRATE_ONLY';

async function migrate(
  config: Readonly<Config>,
  log: ReturnType<typeof createLogger>,
): Promise<void> {
  const applied = await migrateDatabase({
    url: config.DATABASE_URL,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
  });
  if (applied.length) log.info({ migrations: applied }, 'database migrated');
}

/** Runs this program again with TESSERA_MIGRATE_ONLY=1 (same Node flags); true once it succeeded. */
async function migrateInChild(): Promise<true> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, [MIGRATE_ONLY]: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  // The child has already said why on stderr.
  if (code !== 0) throw new Error('the database could not be migrated');
  return true;
}

main().catch((err: unknown) => {
  if (err instanceof KekError || err instanceof ConfigError) {
    process.stderr.write(`tessera: cannot start: ${err.message}\n`);
  } else {
    process.stderr.write(
      `tessera: cannot start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }
  process.exit(1);
});
