/**
 * Starts the real Tessera app on a fresh database and a free port, with fast test settings.
 * Tests speak HTTP to `url` and may reach into `services` to arrange data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { createLogger, type Logger } from '../../src/shared/logger';
import { AdjustableClock } from '../../src/shared/clock';
import { createTestDatabase, type TestDatabase } from './database';

export interface TestServer extends RunningServer {
  config: Readonly<Config>;
  database: TestDatabase;
  clock: AdjustableClock;
  /** Stops the server and drops its database. */
  stop(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  logger?: Logger;
  /** Reuse a database (e.g. to restart on the same data). */
  database?: TestDatabase;
}

/** Settings that keep tests fast (cheap argon2) while leaving behaviour intact. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
};

/** TEST_ENV plus a server's own port, issuer, data and key folders and a fresh KEK. */
export function testServerEnv(port: number, dataDir: string): Record<string, string> {
  return {
    ...TEST_ENV,
    PORT: String(port),
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    KEYS_DIR: join(dataDir, 'keys'),
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const port = await freePort();
  const env: Record<string, string> = {
    ...testServerEnv(port, dataDir),
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const clock = new AdjustableClock();
  const server = await startServer(config, options.logger ?? createLogger('silent'), {
    db: database.db,
    skipMigrations: true,
    clock,
  });
  return {
    ...server,
    config,
    database,
    clock,
    async stop() {
      await server.close();
      if (!options.database) await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a test server before the file's (or the enclosing describe's) tests and stops it after
 * them. Returns a getter: the server exists only once beforeAll has run.
 */
export function useTestServer(options: TestServerOptions = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server)
      throw new Error(
        'useTestServer: the server starts in beforeAll; read it inside a hook or test',
      );
    return server;
  };
}

/** A port that was free a moment ago (the issuer URL must name the real port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
