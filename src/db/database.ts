/**
 * Opens Tessera's database: a PostgreSQL server through `pg` when a URL is given, or an
 * embedded PGlite database (Postgres compiled to WebAssembly, data in a folder) otherwise.
 * Both are reached through the same generated Prisma client, so nothing above this module
 * knows which one it is talking to.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client';
import { lockDataDir, type DataDirLock } from './data-dir-lock';

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseOptions {
  /** postgres:// URL; when absent an embedded PGlite database is used. */
  url?: string | undefined;
  /**
   * Folder for the embedded database; `memory://` keeps it in memory (tests). It and its parent
   * (DATA_DIR) are made private (0700), and the process holds `<folder>.lock` while it is open.
   */
  embeddedDataDir?: string;
  /** Pool size for a PostgreSQL server. */
  poolSize?: number;
  /** Milliseconds to wait for a connection before failing (fail fast when the database is down). */
  connectTimeoutMs?: number;
  /** Milliseconds any one statement may run. */
  statementTimeoutMs?: number;
}

/**
 * A lean path to SQL for the hot paths (refresh rotation, revocation checks, introspection),
 * where the ORM's per-query cost would dominate: one parameterised statement, prepared once
 * per connection under `name` on PostgreSQL. Same pool and same database as `prisma`.
 */
export interface SqlExecutor {
  query<T extends object>(
    name: string,
    text: string,
    values: readonly unknown[],
    options?: QueryOptions,
  ): Promise<T[]>;
}

export interface QueryOptions {
  /**
   * Plan the statement for the data of the moment on every run (sent unnamed) instead of once
   * per connection: for a statement whose cached plan, made while a table was small, would go
   * on scanning it as it grows (PostgreSQL replans a prepared statement only after its tables
   * are next analyzed).
   */
  planEachRun?: boolean;
}

export interface Database {
  readonly kind: DatabaseKind;
  readonly prisma: PrismaClient;
  readonly sql: SqlExecutor;
  /** A driver-adapter factory for Prisma's schema engine (migrations). */
  migrationAdapter(): SqlMigrationAwareDriverAdapterFactory;
  /**
   * Runs `fn` while holding a session-level advisory lock, so that two processes starting at
   * once do not both run it (migrations, demo seeding). PGlite has a single connection.
   */
  withAdvisoryLock<T>(key: bigint, fn: () => Promise<T>): Promise<T>;
  /** Cheap connectivity check for /readyz. */
  ping(): Promise<void>;
  /** Connection-pool use for the metrics (PostgreSQL only). */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url
    ? openPostgres(options.url, options)
    : openPGlite(options.embeddedDataDir ?? '.data/pglite');
}

function openPostgres(url: string, options: DatabaseOptions): Database {
  const poolConfig: pg.PoolConfig = {
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'tessera',
    // statement_timeout is enforced by the server, which cannot help when the network path
    // is dead (a partition drops packets without a reset): then only a client-side timer
    // frees the request. It is longer than statement_timeout so the server's own
    // cancellation wins whenever the server can be reached.
    query_timeout: (options.statementTimeoutMs ?? 10_000) + (options.connectTimeoutMs ?? 5000),
    // Let the kernel notice dead peers on idle pooled connections.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    Client: FailFastClient,
  };
  const pool = new pg.Pool(poolConfig);
  // An idle client that loses its connection emits 'error' on the pool; without a listener
  // that would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: 'postgres',
    prisma,
    sql: {
      async query<T extends object>(
        name: string,
        text: string,
        values: readonly unknown[],
        options?: QueryOptions,
      ): Promise<T[]> {
        return (
          await pool.query<T>(
            options?.planEachRun
              ? { text, values: values as unknown[] }
              : { name, text, values: values as unknown[] },
          )
        ).rows;
      },
    },
    // Discrete fields rather than a connection string: the adapter creates its shadow database
    // by overriding `database`, which a connection string would silently win over.
    migrationAdapter: () =>
      new PrismaPg({
        ...(parseConnectionString(url) as pg.PoolConfig),
        max: 2,
        idleTimeoutMillis: 100,
      }),
    async withAdvisoryLock(key, fn) {
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: poolConfig.connectionTimeoutMillis,
      });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [key.toString()]);
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key.toString()]).catch(() => {});
        await client.end().catch(() => {});
      }
    },
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

/**
 * A pg client that gives up its connection when a query times out client-side. Its query is
 * still outstanding on a path that may never answer; returned to the pool as it is, the
 * connection would stall whoever got it next (and Prisma's ROLLBACK after the failure would
 * wait a second timeout). Ending it makes the pool discard it and later queries on it fail
 * at once.
 */
class FailFastClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((...args: unknown[]) => {
      const result = query(...args);
      if (result instanceof Promise) {
        result.catch((err: unknown) => {
          if (err instanceof Error && err.message === 'Query read timeout')
            this.end().catch(() => {});
        });
      }
      return result;
    }) as pg.Client['query'];
  }
}

async function openPGlite(dataDir: string): Promise<Database> {
  // Loaded lazily: a deployment on PostgreSQL never pays for the WebAssembly build.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  let lock: DataDirLock | undefined;
  if (!dataDir.startsWith('memory://')) {
    // Before the engine writes a byte: the folder holds password hashes and encrypted keys.
    makePrivate(dirname(dataDir));
    makePrivate(dataDir);
    lock = lockDataDir(dataDir);
  }
  let client: InstanceType<typeof PGlite>;
  try {
    client = await PGlite.create(dataDir);
  } catch (err) {
    lock?.release();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(client) });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    kind: 'pglite',
    prisma,
    sql: {
      async query<T extends object>(
        _name: string,
        text: string,
        values: readonly unknown[],
      ): Promise<T[]> {
        return (await client.query<T>(text, values as unknown[])).rows;
      },
    },
    migrationAdapter: () => new PrismaPGlite(client),
    withAdvisoryLock(_key, fn) {
      // One process owns a PGlite folder; serialising in-process is all the locking needed.
      const run = queue.then(fn, fn);
      queue = run.catch(() => {});
      return run;
    },
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    async close() {
      try {
        await prisma.$disconnect();
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/**
 * Creates `dir` 0700, or tightens an existing one of ours that group or others may read (one
 * made by an older version, or by hand with the default umask). Someone else's folder is left
 * as it is: that is its owner's choice.
 */
function makePrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = statSync(dir);
  if ((stat.mode & 0o077) !== 0 && stat.uid === process.getuid?.()) chmodSync(dir, 0o700);
}
