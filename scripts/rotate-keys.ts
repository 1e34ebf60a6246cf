/**
 * `npm run keys:rotate -- [--alg RS256|ES256|all] [--dry-run] [--emergency --kid K] [--json]`:
 * the key-rotation script, the same command as `tessera keys rotate` (scripts/cli/keys.ts over
 * src/keys/key-rotation.ts). Exit codes: 0 done, 2 bad arguments, 1 failure with nothing changed.
 */
import { runCli } from './cli/run';

runCli(['keys', 'rotate', ...process.argv.slice(2)], {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: () => Promise.resolve(''),
  env: process.env,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`keys:rotate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
