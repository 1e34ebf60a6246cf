import { createHash } from 'node:crypto';
import { loadMigrationList } from '../../src/db/migrations';

/** Name of the migrated template database; changes whenever the migrations change. */
export function templateDatabaseName(): string {
  const h = createHash('sha256');
  for (const m of loadMigrationList().migrationDirectories)
    h.update(m.path).update(m.migrationFile.content.value);
  return `tessera_template_${h.digest('hex').slice(0, 12)}`;
}
