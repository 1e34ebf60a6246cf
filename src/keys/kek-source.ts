/**
 * Where the key-encryption keys come from: KEY_ENCRYPTION_KEY, or on the embedded default a
 * key generated once into keys/ (folder 0700, file 0600, gitignored) and reused on every start.
 * The generated key is made together with the embedded database, never after it: a new key over
 * existing data could decrypt none of its signing keys.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KekError, parseKeks, type Kek } from './envelope';

export const LOCAL_KEK_FILE = 'key-encryption-key';

export function resolveKeks(options: {
  configured: string | undefined;
  embedded: boolean;
  keysDir: string;
}): { keks: Kek[]; source: string } {
  if (options.configured)
    return { keks: parseKeks(options.configured), source: 'KEY_ENCRYPTION_KEY' };
  if (!options.embedded) {
    throw new KekError(
      'KEY_ENCRYPTION_KEY is required with DATABASE_URL (generate one with: openssl rand -base64 32)',
    );
  }
  const file = ensureLocalKek(options.keysDir);
  return { keks: parseKeks(readFileSync(file, 'utf8').trim(), file), source: file };
}

/**
 * Run before the embedded database in `dataDir` is opened (and so perhaps created): with no
 * KEY_ENCRYPTION_KEY, generates the local key only while there is no database yet. When the
 * database exists and the key file does not, its signing keys were encrypted with the lost
 * file: refuse, naming the file and the two ways out.
 */
export function prepareLocalKek(options: {
  configured: string | undefined;
  keysDir: string;
  dataDir: string;
}): void {
  if (options.configured) return;
  const file = join(options.keysDir, LOCAL_KEK_FILE);
  // PG_VERSION is the first file PostgreSQL's initdb writes into a database folder.
  const database = join(options.dataDir, 'pglite');
  if (!existsSync(file) && existsSync(join(database, 'PG_VERSION'))) {
    throw new KekError(
      `${file} is missing, but ${database} holds a database whose signing keys were encrypted with it; a new key could decrypt none of them. ` +
        `Either restore ${file} from a backup, or remove ${options.dataDir} to start fresh (its users, clients and tokens are lost).`,
    );
  }
  ensureLocalKek(options.keysDir);
}

/** The local key file, generated when missing; the folder is made 0700 and the file 0600. */
function ensureLocalKek(keysDir: string): string {
  const file = join(keysDir, LOCAL_KEK_FILE);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  // An existing folder (keys/ ships with a README) is tightened: it holds the key in the clear.
  if ((statSync(keysDir).mode & 0o077) !== 0) chmodSync(keysDir, 0o700);
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  if ((statSync(file).mode & 0o077) !== 0)
    throw new KekError(`${file} must not be readable by others`);
  return file;
}
