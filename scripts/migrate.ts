/**
 * Database migrations, through Prisma's schema engine (WebAssembly build):
 *   npm run db:migrate                 apply pending migrations (idempotent; safe on every start)
 *   npm run db:migration -- <name>     author prisma/migrations/<ts>_<name>/ from schema changes
 *   npm run db:drift                   exit 1 if schema.prisma and the migrations differ
 * `apply` uses DATABASE_URL, or the embedded database in DATA_DIR when it is unset.
 */
import { ConfigError, loadConfig } from '../src/config';
import { authorMigration, migrateDatabase, migrationDrift } from '../src/db/migrations';

const USAGE = 'usage: migrate.ts apply | create <name> | check';

async function main(argv: string[]): Promise<number> {
  const [command, name] = argv;
  switch (command) {
    case 'apply': {
      const config = loadConfig();
      const applied = await migrateDatabase({
        url: config.DATABASE_URL,
        embeddedDataDir: `${config.DATA_DIR}/pglite`,
      });
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      return 0;
    }
    case 'create': {
      if (!name) {
        console.error(USAGE);
        return 2;
      }
      const dir = await authorMigration(name);
      console.log(
        dir
          ? `wrote ${dir}/migration.sql — review it, then commit it`
          : 'schema and migrations agree; nothing to write',
      );
      return 0;
    }
    case 'check': {
      const sql = await migrationDrift();
      if (sql === null) {
        console.log('schema.prisma and prisma/migrations agree');
        return 0;
      }
      console.error(
        `schema.prisma has changes no migration contains:\n${sql}\nrun: npm run db:migration -- <name>`,
      );
      return 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      `migrate: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}`,
    );
    process.exit(1);
  },
);
