/**
 * Runs once before the test files: compiles the server (the suites that start it as a process
 * run what `npm start` runs), and on a PostgreSQL server creates (if missing) a template
 * database with every migration applied, so each test file gets a fresh copy in milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/database';
import { applyMigrations } from '../../src/db/migrations';
import { adminQuery, serverUrl, withDatabase } from './database';
import { templateDatabaseName } from './template';

export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build.js')], {
    stdio: 'inherit',
  });
  const base = serverUrl();
  if (!base) return;
  const name = templateDatabaseName();
  const client = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await client.connect();
  try {
    // Serialise concurrent test runs on the same server.
    await client.query('SELECT pg_advisory_lock(7355608)');
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_building`;
      await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${building}"`);
      const db = await openDatabase({ url: withDatabase(base, building) });
      try {
        await applyMigrations(db);
      } finally {
        await db.close();
      }
      await client.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    }
    // Leftovers of interrupted runs.
    const stale = await client.query(
      `SELECT datname FROM pg_database WHERE datname LIKE 'tessera_test_%'`,
    );
    const cutoff = Date.now() - 3 * 3600_000;
    for (const row of stale.rows as { datname: string }[]) {
      const ts = parseInt(row.datname.split('_')[2] ?? '', 36);
      if (Number.isFinite(ts) && ts < cutoff)
        await adminQuery(base, `DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7355608)').catch(() => {});
    await client.end();
  }
}
