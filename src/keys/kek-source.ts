/**
 * Where the key-encryption keys come from: KEY_ENCRYPTION_KEY, or on the embedded default a
 * key generated once into keys/ (gitignored, mode 0600) and reused on every start.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KekError, parseKeks, type Kek } from './envelope';

export const LOCAL_KEK_FILE = 'key-encryption-key';

export function resolveKeks(options: { configured: string | undefined; embedded: boolean; keysDir: string }): { keks: Kek[]; source: string } {
  if (options.configured) return { keks: parseKeks(options.configured), source: 'KEY_ENCRYPTION_KEY' };
  if (!options.embedded) {
    throw new KekError('KEY_ENCRYPTION_KEY is required with DATABASE_URL (generate one with: openssl rand -base64 32)');
  }
  const file = join(options.keysDir, LOCAL_KEK_FILE);
  if (!existsSync(file)) {
    mkdirSync(options.keysDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  if ((statSync(file).mode & 0o077) !== 0) throw new KekError(`${file} must not be readable by others`);
  return { keks: parseKeks(readFileSync(file, 'utf8').trim(), file), source: file };
}
