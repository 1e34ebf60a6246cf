/**
 * Start-up and shutdown, shared by `npm start` (src/main.ts) and the tests: open the database,
 * migrate it, build the services, make sure signing keys exist and load them, seed the demo
 * data where asked, listen. close() stops accepting, finishes in-flight requests, then closes
 * the database.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestListener } from './app';
import type { Config } from './config';
import { openDatabase, type Database } from './db/database';
import { applyMigrations } from './db/migrations';
import { AutoRotation } from './keys/auto-rotation';
import { prepareLocalKek } from './keys/kek-source';
import { ensureUsableKeys } from './keys/key-rotation';
import { startPurgeJob } from './observability/purge';
import { buildServices, type BuildOptions, type Services } from './services';
import type { Logger } from './shared/logger';
import { seedDemo, type DemoCredentials } from './seed/demo';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  readonly demo: DemoCredentials | null;
  close(): Promise<void>;
}

export interface StartOptions extends BuildOptions {
  /** An already-open database (tests share one per file); otherwise opened from the config. */
  db?: Database;
  /** Skip migrations (the caller already applied them). */
  skipMigrations?: boolean;
}

export async function openServices(
  config: Readonly<Config>,
  log: Logger,
  options: StartOptions = {},
): Promise<Services> {
  // Before the embedded database may be created: its generated key is made with it, never over it.
  if (config.embedded && !options.db)
    prepareLocalKek({
      configured: config.KEY_ENCRYPTION_KEY,
      keysDir: config.KEYS_DIR,
      dataDir: config.DATA_DIR,
    });
  const db =
    options.db ??
    (await openDatabase({
      url: config.DATABASE_URL,
      embeddedDataDir: `${config.DATA_DIR}/pglite`,
      poolSize: config.DB_POOL_SIZE,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    }));
  try {
    if (!options.skipMigrations) {
      const applied = await applyMigrations(db);
      if (applied.length) log.info({ migrations: applied }, 'database migrated');
    }
    const services = buildServices(config, db, log, options);
    // Throws KekError (nothing created) when existing keys cannot be decrypted.
    const created = await ensureUsableKeys(services);
    if (created.length) log.info({ keys: created }, 'signing keys created');
    await services.keyStore.load();
    return services;
  } catch (err) {
    if (!options.db) await db.close().catch(() => {});
    throw err;
  }
}

export async function startServer(
  config: Readonly<Config>,
  log: Logger,
  options: StartOptions = {},
): Promise<RunningServer> {
  const services = await openServices(config, log, options);
  const demo = config.embedded || config.SEED_DEMO ? await seedDemo(services) : null;
  services.keyStore.start();
  const autoRotation = new AutoRotation({ ...services, keyStore: services.keyStore });
  autoRotation.start();
  // Every instance schedules the purge; an advisory lock lets one at a time do it.
  const purge = startPurgeJob(services);
  // Every instance delivers queued logout tokens; rows are claimed, so never twice at once.
  services.logoutDelivery.start();

  const server: Server = createServer(requestListener(services)).listen({
    port: config.PORT,
    host: config.HOST,
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    services,
    demo,
    close() {
      closing ??= (async () => {
        autoRotation.stop();
        purge.stop();
        services.keyStore.stop();
        // Queued tokens not yet delivered stay in the outbox for the next start (or instance).
        await services.logoutDelivery.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        if (!options.db) await services.db.close();
      })();
      return closing;
    },
  };
}
