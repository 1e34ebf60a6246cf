/**
 * `npm start`: load config → open database → migrate → keys → app → listen; SIGTERM/SIGINT
 * shut down gracefully. WEB_CONCURRENCY > 1 forks that many workers (Node cluster) after the
 * primary has migrated the database and made sure keys exist.
 */
import cluster from 'node:cluster';
import v8 from 'node:v8';
import { ConfigError, loadConfig, type Config } from './config';
import { KekError } from './keys/envelope';
import { startServer, openServices } from './server';
import { createLogger } from './shared/logger';
import { printBanner } from './seed/banner';

// Prisma's query compiler and schema engine are WebAssembly. V8's optimising tier keeps a
// second, larger compiled copy of them: about 65 MB of resident memory (measured: idle server
// on PostgreSQL 260 → 195 MB). Baseline (Liftoff) code is enough here: the hot paths use prepared SQL
// (Database.sql), and Prisma's model queries measured within ~10 % either way. Set before the
// first query compiles the module. An explicit V8 flag on the command line still wins.
if (!process.execArgv.some((a) => a.includes('liftoff') || a.includes('wasm-tier'))) v8.setFlagsFromString('--liftoff-only');

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);

  if (config.WEB_CONCURRENCY > 1 && cluster.isPrimary && !config.embedded) {
    // Migrate and create keys once, then fork; workers skip migrations.
    const services = await openServices(config, log);
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

  const server = await startServer(config, log, { skipMigrations: process.env.TESSERA_WORKER === '1' });
  log.info({ url: server.url, issuer: config.issuer, database: config.embedded ? 'embedded' : 'postgres' }, 'tessera listening');
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

main().catch((err: unknown) => {
  if (err instanceof KekError || err instanceof ConfigError) {
    process.stderr.write(`tessera: cannot start: ${err.message}\n`);
  } else {
    process.stderr.write(`tessera: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
});
