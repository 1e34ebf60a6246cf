/**
 * `tessera users invite --email E [--json]`: prints a single-use sign-up link once; the
 * database keeps only its SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { runCliInProcess } from '../support/cli';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/database';

// The CLI opens the database by URL, which an in-memory embedded one does not have.
describeOnPostgres('users invite CLI')('tessera users invite', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 2 });
    env = {
      DATABASE_URL: database.url!,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ISSUER: 'https://id.example.com',
      SIGNUP: 'invite',
      SMTP_URL: 'smtp://127.0.0.1:1',
    };
  });
  afterAll(() => database?.drop());

  it('prints the link once as JSON and stores only its hash', async () => {
    const res = await runCliInProcess(
      ['users', 'invite', '--email', 'Grace@Example.com', '--json'],
      env,
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { email: string; url: string; expires_at: string };
    expect(out.email).toBe('grace@example.com');
    const url = new URL(out.url);
    expect(`${url.origin}${url.pathname}`).toBe('https://id.example.com/signup');
    const token = url.searchParams.get('invitation')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    const rows = await database.db.prisma.emailToken.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ purpose: 'invitation', email: 'grace@example.com' });
    expect(rows[0]!.tokenHash).toBe(createHash('sha256').update(token).digest('base64url'));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(new Date(out.expires_at).getTime()).toBeGreaterThan(Date.now());
  });

  it('refuses a malformed address with exit 2 and stores nothing', async () => {
    const before = await database.db.prisma.emailToken.count();
    const res = await runCliInProcess(['users', 'invite', '--email', 'not-an-email'], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--email/);
    expect(await database.db.prisma.emailToken.count()).toBe(before);
  });
});
