/**
 * `tessera keys rotate|list|reencrypt` (and `npm run keys:rotate`, the same command): exit codes
 * 0 done / 2 usage / 1 refused with nothing changed, and no private material in any output.
 * On PostgreSQL it runs against a fresh database; otherwise against the embedded default in a
 * temporary DATA_DIR (with its generated key-encryption key).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../scripts/cli/run';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database';

// The first embedded start creates and migrates a PGlite folder: slow on a busy machine.
jest.setTimeout(180_000);

let dir: string;
let database: TestDatabase | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-keys-cli-'));
  env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: join(dir, 'data'),
    KEYS_DIR: join(dir, 'keys'),
  };
  if (serverUrl()) {
    database = await createTestDatabase();
    await database.db.close(); // the CLI opens its own connection, like a separate process
    Object.assign(env, {
      DATABASE_URL: database.url!,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
  }
});
afterAll(async () => {
  await database?.drop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stdin: async () => '',
    env,
  });
  // Nothing private is ever printed: no private JWK members, no PEM.
  expect(stdout + stderr).not.toMatch(/"(d|p|q|dp|dq|qi|k)"\s*:|PRIVATE KEY|private_key_cipher/);
  return { code, stdout, stderr };
}

interface ListedKey {
  kid: string;
  alg: string;
  state: string;
}

async function list(): Promise<ListedKey[]> {
  const { code, stdout } = await cli('keys', 'list', '--json');
  expect(code).toBe(0);
  return JSON.parse(stdout) as ListedKey[];
}

describe('tessera keys', () => {
  it('list shows kid, alg, state and dates of the keys created on first start', async () => {
    const keys = await list();
    expect(keys.map((k) => `${k.alg}:${k.state}`).sort()).toEqual([
      'ES256:active',
      'ES256:next',
      'RS256:active',
      'RS256:next',
    ]);
    expect(keys[0]).toEqual(
      expect.objectContaining({
        kid: expect.any(String),
        published_at: expect.any(String),
        activated_at: expect.anything(),
      }),
    );
    const text = await cli('keys', 'list');
    expect(text.stdout).toMatch(/^KID\s+ALG\s+STATE\s+PUBLISHED/);
  });

  it.each([
    [['keys', 'rotate', '--alg', 'HS256'], /--alg must be/],
    [['keys', 'rotate', '--emergency'], /--emergency and --kid go together/],
    [['keys', 'rotate', '--kid', 'x'], /--emergency and --kid go together/],
    [['keys', 'rotate', '--bogus'], /unknown option/],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const { code, stderr } = await cli(...argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('rotate --dry-run and a rotation before the next key is eligible change nothing and say when', async () => {
    const before = await list();
    const dry = await cli('keys', 'rotate', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dry_run: true,
      applied: false,
      algs: [{ alg: 'RS256', actions: [], next_eligible_at: expect.any(String) }, { alg: 'ES256' }],
    });
    const real = await cli('keys', 'rotate', '--alg', 'RS256');
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(
      /RS256:\n {2}nothing to do\n {2}the next key may be promoted from \d{4}-/,
    );
    expect(await list()).toEqual(before);
  });

  it('rotate --emergency retires the key, activates the next one and warns about caches', async () => {
    const before = await list();
    const active = before.find((k) => k.alg === 'RS256' && k.state === 'active')!;
    const next = before.find((k) => k.alg === 'RS256' && k.state === 'next')!;
    const unknown = await cli('keys', 'rotate', '--emergency', '--kid', 'no-such-kid');
    expect(unknown.code).toBe(1);
    expect(await list()).toEqual(before);

    const { code, stdout } = await cli('keys', 'rotate', '--emergency', '--kid', active.kid);
    expect(code).toBe(0);
    expect(stdout).toMatch(/WARNING: .*JWKS_MAX_AGE/);
    const after = await list();
    expect(after.find((k) => k.kid === active.kid)!.state).toBe('retired');
    expect(after.find((k) => k.kid === next.kid)!.state).toBe('active');
    expect(after.filter((k) => k.alg === 'RS256' && k.state === 'next')).toHaveLength(1);
  });

  it('reencrypt reports the keys already under the first key-encryption key', async () => {
    const { code, stdout } = await cli('keys', 'reencrypt', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      reencrypted: [],
      unchanged: expect.arrayContaining([expect.any(String)]),
    });
  });
});
