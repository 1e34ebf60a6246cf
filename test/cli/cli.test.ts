/**
 * The CLI against a fresh database, in this process (runCli, what bin/tessera.js calls), and
 * the bin itself as operators run it: bad arguments exit 2 before anything is opened; secrets
 * are printed once and stored only hashed.
 */
import { randomBytes } from 'node:crypto';
import { verifyClientSecret } from '../../src/oauth/client-auth/secrets';
import { runCli } from '../../scripts/cli/run';
import { runCliInProcess, runTessera, type CliRun } from '../support/cli';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database';

const KEK = randomBytes(32).toString('base64');
const FAST = { ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', LOG_LEVEL: 'warn' };

/** Runs the CLI in this process with `args`, feeding `stdin`, with cheap argon2 settings. */
const tessera = (args: string[], env: Record<string, string>, stdin = '') =>
  runCliInProcess(args, { ...FAST, ...env }, stdin);

/** The same through bin/tessera.js in a child process. */
const tesseraBin = (args: string[], env: Record<string, string>, stdin = '') =>
  runTessera(args, { ...FAST, ...env }, stdin);

describe('bad arguments: usage on stderr, exit 2, nothing opened', () => {
  // A database that cannot be reached: if a command got as far as opening it, it would exit 1.
  const env = {
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    KEY_ENCRYPTION_KEY: KEK,
    DB_CONNECT_TIMEOUT_MS: '200',
  };

  it.each([
    [[]],
    [['nope']],
    [['users']],
    [['users', 'nope']],
    [['users', 'create']],
    [['users', 'create', '--email', 'a@example.com']],
    [
      [
        'users',
        'create',
        '--email',
        'a@example.com',
        '--password',
        'abcdefgh1',
        '--password-stdin',
      ],
    ],
    [['users', 'create', '--email']],
    [
      [
        'users',
        'create',
        '--email',
        'a@example.com',
        '--email',
        'b@example.com',
        '--password',
        'abcdefgh1',
      ],
    ],
    [['users', 'list', '--bogus']],
    [['users', 'list', 'extra']],
    [['users', 'disable']],
    [['clients', 'create', '--public']],
    [['clients', 'create', '--name', 'x', '--public=yes']],
    [['clients', 'create', '--name', 'x', '--alg', 'HS256']],
    [['clients', 'rotate-secret']],
  ])('tessera %j', async (argv) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli([...argv, '--json'], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      stdin: async () => '',
      env,
    });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('')).toMatch(/^tessera: .+\n\nusage: tessera /);
  });

  // Values the admin schema refuses are bad arguments too: named by the flag as typed (never
  // `redirectUris.0`), usage line, exit 2 — and a password is never echoed.
  it.each<[string, string[], RegExp]>([
    [
      'plain http, not loopback',
      ['clients', 'create', '--name', 'x', '--public', '--redirect-uri', 'http://evil.example/cb'],
      /--redirect-uri http:\/\/evil\.example\/cb: plain http is allowed only for loopback/,
    ],
    [
      'a * in the host',
      [
        'clients',
        'create',
        '--name',
        'x',
        '--redirect-uri',
        'https://ok.example/cb',
        '--redirect-uri',
        'https://*.example.com/cb',
      ],
      /--redirect-uri https:\/\/\*\.example\.com\/cb: a \* in the host is not a wildcard/,
    ],
    [
      'a fragment',
      ['clients', 'create', '--name', 'x', '--redirect-uri', 'https://app.example/cb#top'],
      /--redirect-uri https:\/\/app\.example\/cb#top: must not contain a fragment/,
    ],
    [
      'a javascript: post-logout URI',
      [
        'clients',
        'create',
        '--name',
        'x',
        '--redirect-uri',
        'https://app.example/cb',
        '--post-logout-redirect-uri',
        'javascript:alert(1)',
      ],
      /--post-logout-redirect-uri javascript:alert\(1\): the scheme javascript: is not allowed/,
    ],
    [
      'a relative redirect URI',
      ['clients', 'create', '--name', 'x', '--redirect-uri', '/cb'],
      /--redirect-uri \/cb: must be an absolute URI/,
    ],
    [
      'authorization_code without a redirect URI',
      ['clients', 'create', '--name', 'x', '--grant', 'authorization_code'],
      /--redirect-uri: authorization_code needs at least one redirect URI/,
    ],
    [
      'an unknown grant',
      ['clients', 'create', '--name', 'x', '--grant', 'implicit'],
      /--grant implicit: /,
    ],
    [
      'the password grant for a third party',
      ['clients', 'create', '--name', 'x', '--grant', 'password'],
      /--grant: the password grant is for first-party clients only/,
    ],
    [
      'a scope with a quote',
      ['clients', 'create', '--name', 'x', '--grant', 'client_credentials', '--scope', 'api "x"'],
      /--scope "api \\"x\\"": scope tokens are printable ASCII/,
    ],
    [
      'an empty name',
      ['clients', 'create', '--name=', '--grant', 'client_credentials'],
      /--name "": /,
    ],
    [
      'a malformed email',
      ['users', 'create', '--email', 'not-an-email', '--password', 'abcdefgh1'],
      /--email not-an-email: /,
    ],
    [
      'a short password',
      ['users', 'create', '--email', 'a@example.com', '--password', 'hunter2'],
      /--password: password must be at least 8 characters/,
    ],
    [
      'a role with a space',
      [
        'users',
        'create',
        '--email',
        'a@example.com',
        '--password',
        'abcdefgh1',
        '--role',
        'bad role',
      ],
      /--role "bad role": roles are/,
    ],
  ])('%s: exit 2, usage, the flag named', async (_name, argv, named) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      stdin: async () => '',
      env,
    });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    const stderr = err.join('');
    expect(stderr).toMatch(new RegExp(`^tessera: .+\\n\\nusage: tessera ${argv[0]} ${argv[1]} `));
    expect(stderr).toMatch(named);
    expect(stderr).not.toMatch(/redirectUris|postLogoutRedirectUris|grantTypes|hunter2/);
  });

  it('--help prints the usage of every command and exits 0', async () => {
    const out: string[] = [];
    await expect(
      runCli(['--help'], {
        stdout: (t) => out.push(t),
        stderr: () => {},
        stdin: async () => '',
        env,
      }),
    ).resolves.toBe(0);
    for (const c of [
      'users create',
      'users list',
      'users disable',
      'users enable',
      'clients create',
      'clients update',
      'clients show',
      'clients list',
      'clients rotate-secret',
    ]) {
      expect(out.join('')).toContain(`tessera ${c}`);
    }
  });

  it('the tessera bin exits 2 on bad arguments', async () => {
    const res = await tesseraBin(['users', 'create', '--email', 'a@example.com'], env);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      'usage: tessera users create --email E (--password P | --password-stdin)',
    );
  });
});

const url = serverUrl();

// The CLI opens its own connection from DATABASE_URL, which a test's in-memory PGlite database
// does not have; on the embedded default it is the same code over a folder
// (test/server/embedded-default.test.ts). Run with TEST_DATABASE_URL to cover it.
(url ? describe : describe.skip)(
  `tessera against a database${url ? '' : ' (skipped: set TEST_DATABASE_URL to run the CLI against PostgreSQL)'}`,
  () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    beforeAll(async () => {
      database = await createTestDatabase({ poolSize: 2 });
      env = { DATABASE_URL: database.url!, KEY_ENCRYPTION_KEY: KEK };
    });
    afterAll(() => database?.drop());

    const json = (r: CliRun) => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };

    it('users create --password-stdin --json (through the bin) prints the user, and the password is stored hashed', async () => {
      const user = json(
        await tesseraBin(
          [
            'users',
            'create',
            '--email',
            'Ada@Example.com',
            '--password-stdin',
            '--name',
            'Ada',
            '--role',
            'admin',
            '--role',
            'ops',
            '--json',
          ],
          env,
          'correct horse battery\n',
        ),
      );
      expect(user).toEqual({
        id: expect.any(String),
        email: 'ada@example.com',
        name: 'Ada',
        roles: ['admin', 'ops'],
        disabled: false,
        email_verified: false,
        created_at: expect.any(String),
      });
      const row = await database.db.prisma.user.findUniqueOrThrow({
        where: { id: user.id as string },
      });
      expect(row.passwordHash).toMatch(/^\$argon2id\$/);
      expect(row.passwordHash).not.toContain('correct horse');
    });

    it('users create refuses a duplicate email with exit 1 and changes nothing', async () => {
      const res = await tessera(
        ['users', 'create', '--email', 'ada@example.com', '--password', 'another-password'],
        env,
      );
      expect(res).toMatchObject({ code: 1, stdout: '' });
      expect(res.stderr).toMatch(/^tessera: a user with email ada@example.com already exists\n$/);
      expect(await database.db.prisma.user.count()).toBe(1);
    });

    it('users list shows users in a table and as JSON, never the password hash', async () => {
      const table = await tessera(['users', 'list'], env);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(
        /^ID\s+EMAIL\s+NAME\s+ROLES\s+DISABLED\s+CREATED_AT\n.*ada@example\.com\s+Ada\s+admin,ops\s+no/,
      );
      const list = await tessera(['users', 'list', '--json'], env);
      expect(JSON.parse(list.stdout)).toEqual([
        expect.objectContaining({ email: 'ada@example.com' }),
      ]);
      expect(table.stdout + list.stdout).not.toMatch(/argon2|password/);
    });

    it('users disable and enable flip the flag; an unknown email exits 1', async () => {
      expect(
        json(await tessera(['users', 'disable', '--email', 'ada@example.com', '--json'], env)),
      ).toMatchObject({ email: 'ada@example.com', disabled: true });
      expect((await database.db.prisma.user.findFirstOrThrow()).disabled).toBe(true);
      expect((await tessera(['users', 'enable', '--email', 'ada@example.com'], env)).stdout).toBe(
        'enabled user ada@example.com\n',
      );
      expect((await database.db.prisma.user.findFirstOrThrow()).disabled).toBe(false);
      expect(
        await tessera(['users', 'disable', '--email', 'nobody@example.com'], env),
      ).toMatchObject({ code: 1, stderr: 'tessera: no user with email nobody@example.com\n' });
    });

    let clientId: string;
    let secret: string;

    it('clients create prints client_id and client_secret once; only a hash is stored', async () => {
      const created = json(
        await tessera(
          [
            'clients',
            'create',
            '--name',
            'Web',
            '--first-party',
            '--grant',
            'password',
            '--grant',
            'refresh_token',
            '--scope',
            'openid profile',
            '--audience',
            'https://api.example',
            '--alg',
            'ES256',
            '--json',
          ],
          env,
        ),
      );
      expect(created).toMatchObject({
        client_id: expect.any(String),
        client_secret: expect.any(String),
        token_endpoint_auth_method: 'client_secret_basic',
        first_party: true,
        grant_types: ['password', 'refresh_token'],
        scope: 'openid profile',
        audiences: ['https://api.example'],
        id_token_signed_response_alg: 'ES256',
      });
      clientId = created.client_id as string;
      secret = created.client_secret as string;
      expect(secret.length).toBeGreaterThanOrEqual(32);
      const row = await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } });
      expect(row.secretHash).not.toBeNull();
      expect(row.secretHash).not.toContain(secret);
      expect(verifyClientSecret(row.secretHash!, secret)).toBe(true);
    });

    it('clients create --public prints no secret', async () => {
      const res = await tessera(
        [
          'clients',
          'create',
          '--name',
          'SPA',
          '--public',
          '--redirect-uri',
          'https://app.example/cb',
        ],
        env,
      );
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/created public client SPA\nclient_id\s+\S+\n/);
      expect(res.stdout).not.toContain('client_secret');
    });

    it('clients create with a refused combination exits 2 and writes nothing', async () => {
      const before = await database.db.prisma.client.count();
      const res = await tessera(
        ['clients', 'create', '--name', 'Third party', '--grant', 'password'],
        env,
      );
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(
        /^tessera: --grant: the password grant is for first-party clients only \(first_party\)\n\nusage: tessera clients create /,
      );
      expect(await database.db.prisma.client.count()).toBe(before);
    });

    it('clients list never shows a secret or its hash', async () => {
      const row = await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } });
      const list = await tessera(['clients', 'list', '--json'], env);
      const clients = JSON.parse(list.stdout) as Record<string, unknown>[];
      expect(clients.map((c) => c.client_name)).toEqual(['Web', 'SPA']);
      for (const c of clients)
        expect(Object.keys(c)).not.toEqual(
          expect.arrayContaining([expect.stringMatching(/secret/)]),
        );
      const table = await tessera(['clients', 'list'], env);
      expect(table.stdout).toMatch(/^CLIENT_ID\s+NAME\s+TYPE/);
      for (const out of [list.stdout, table.stdout]) {
        expect(out).not.toContain(secret);
        expect(out).not.toContain(row.secretHash!);
      }
    });

    it('clients rotate-secret prints a new secret once; the old one stops verifying', async () => {
      const rotated = json(
        await tessera(['clients', 'rotate-secret', '--client-id', clientId, '--json'], env),
      );
      expect(rotated).toEqual({ client_id: clientId, client_secret: expect.any(String) });
      expect(rotated.client_secret).not.toBe(secret);
      const row = await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } });
      expect(verifyClientSecret(row.secretHash!, rotated.client_secret as string)).toBe(true);
      expect(verifyClientSecret(row.secretHash!, secret)).toBe(false);
      expect(
        await tessera(['clients', 'rotate-secret', '--client-id', 'no-such-client'], env),
      ).toMatchObject({ code: 1, stderr: 'tessera: no client no-such-client\n' });
    });
  },
);
