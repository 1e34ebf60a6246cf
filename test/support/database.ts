/**
 * A fresh database for each test file. With TEST_DATABASE_URL or DATABASE_URL, a new database
 * on that PostgreSQL server, copied from a migrated template (fast); otherwise an in-memory
 * PGlite database, migrated.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database';
import { applyMigrations } from '../../src/db/migrations';
import { templateDatabaseName } from './template';

export interface TestDatabase {
  /** postgres:// URL of the fresh database, or undefined on PGlite. */
  url: string | undefined;
  db: Database;
  drop(): Promise<void>;
}

export function serverUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

/**
 * `describe` when the tests run on a PostgreSQL server, else `describe.skip` with one warning
 * naming `suite` (for behaviour PGlite cannot show: several connections, pools, real plans).
 */
export function describeOnPostgres(suite: string): jest.Describe {
  if (serverUrl()) return describe;
  console.warn(`${suite}: skipped — needs a real PostgreSQL (set TEST_DATABASE_URL)`);
  return describe.skip;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(
  options: { poolSize?: number } = {},
): Promise<TestDatabase> {
  if (process.env.TESSERA_UNIT_TIER)
    throw new Error(
      'a unit test may not open a database: move it to the integration project (jest.config.js)',
    );
  const base = serverUrl();
  if (!base) {
    const db = await openDatabase({ embeddedDataDir: 'memory://' });
    await applyMigrations(db);
    return { url: undefined, db, drop: () => db.close() };
  }
  const name = `tessera_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await adminQuery(base, `CREATE DATABASE "${name}" TEMPLATE "${templateDatabaseName()}"`);
  const url = withDatabase(base, name);
  const db = await openDatabase({
    url,
    poolSize: options.poolSize ?? 10,
    connectTimeoutMs: 3000,
    statementTimeoutMs: 10_000,
  });
  return {
    url,
    db,
    async drop() {
      await db.close();
      await adminQuery(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

export async function adminQuery(base: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
