/**
 * Tessera's command-line interface (`npm run cli -- ...`, or the `tessera` bin):
 *   tessera users create --email E (--password P | --password-stdin) [--name N] [--role R]...
 *   tessera clients create --name N [--public] [--first-party] [--grant G]... ...
 * Run `tessera help` for every command. Commands are registered in scripts/cli/commands.ts.
 * It uses DATABASE_URL (and KEY_ENCRYPTION_KEY), or the embedded database in DATA_DIR when
 * unset — stop `npm start` first there: an embedded database has one owner at a time (a call
 * while the server runs refuses, naming it). `.env` in the working directory is read first; a
 * variable set in the real environment wins.
 */
import { loadDotEnv } from '../src/config/dotenv';
import { runCli } from './cli/run';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function fail(err: unknown): never {
  process.stderr.write(`tessera: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

try {
  loadDotEnv();
} catch (err) {
  fail(err);
}

runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: readStdin,
  env: process.env,
}).then(
  (code) => process.exit(code),
  (err: unknown) => fail(err),
);
