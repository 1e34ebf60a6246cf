/**
 * applyMigrations is safe when several instances start at once: on a fresh PostgreSQL database
 * two concurrent runs both succeed and each migration is applied exactly once.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/db/database';
import { applyMigrations, loadMigrationList } from '../../src/db/migrations';
import { adminQuery, serverUrl, withDatabase } from '../support/database';

const base = serverUrl();
const migrationNames = loadMigrationList().migrationDirectories.map((m) => m.path);

describe('applyMigrations on the embedded database', () => {
  it('applies everything once and is idempotent, even when called twice at once', async () => {
    const db = await openDatabase({ embeddedDataDir: 'memory://' });
    try {
      const [a, b] = await Promise.all([applyMigrations(db), applyMigrations(db)]);
      expect([...a, ...b].sort()).toEqual(migrationNames);
      await expect(applyMigrations(db)).resolves.toEqual([]);
    } finally {
      await db.close();
    }
  });
});

// A real server is needed for two separate connections racing; PGlite is one process.
(base ? describe : describe.skip)(
  `applyMigrations on PostgreSQL${base ? '' : ' (skipped: set TEST_DATABASE_URL to run)'}`,
  () => {
    const name = `tessera_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    beforeAll(() => adminQuery(base!, `CREATE DATABASE "${name}"`));
    afterAll(() => adminQuery(base!, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

    it('two instances migrating a fresh database at once both succeed and apply each migration once', async () => {
      const url = withDatabase(base!, name);
      const [one, two] = await Promise.all([
        openDatabase({ url, poolSize: 2 }),
        openDatabase({ url, poolSize: 2 }),
      ]);
      try {
        const [a, b] = await Promise.all([applyMigrations(one), applyMigrations(two)]);
        // One of them applied everything; the other, queued on the advisory lock, found nothing to do.
        expect([a, b].sort((x, y) => x.length - y.length)).toEqual([[], migrationNames]);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const rows = await client.query<{ migration_name: string; n: string }>(
          'SELECT migration_name, count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL GROUP BY migration_name ORDER BY migration_name',
        );
        expect(rows.rows).toEqual(migrationNames.map((m) => ({ migration_name: m, n: '1' })));
      } finally {
        await client.end();
      }
    });
  },
);
