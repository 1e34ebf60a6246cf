// `npm start` refuses a bad configuration before doing anything: one short line, no stack.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_MAIN } from '../support/spawn-server';

const root = join(__dirname, '..', '..');

describe('npm start with a bad value', () => {
  it.each([
    [{ PORT: 'abc' }, /PORT/],
    // Once started "ready", every token request would have answered 500.
    [{ DEFAULT_SIGNING_ALG: 'ES256', SIGNING_ALGS: 'RS256' }, /DEFAULT_SIGNING_ALG.*SIGNING_ALGS/],
  ])(
    '%j exits non-zero with a short message naming the variable and no stack trace',
    (bad, message) => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
      try {
        const res = spawnSync(process.execPath, [SERVER_MAIN], {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...bad,
            DATA_DIR: dir,
            KEYS_DIR: dir,
          },
          encoding: 'utf8',
          timeout: 30_000,
        });
        expect(res.status).toBe(1);
        expect(res.stderr).toMatch(message);
        expect(res.stderr).not.toMatch(/\n\s+at /);
        expect(res.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
        expect(res.stdout).toBe('');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
