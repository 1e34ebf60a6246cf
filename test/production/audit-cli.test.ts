/**
 * `tessera audit list` (issue 7): the audit trail filtered by user, time and type, as a table
 * or JSON; bad filters are usage errors. Runs the command against the test server's services.
 */
import { parseArgs } from '../../scripts/cli/args';
import { auditCommands, parseSince } from '../../scripts/cli/audit';
import { UsageError } from '../../scripts/cli/types';
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, PASSWORD, token } from '../support/fixtures';

let server: TestServer;
let email: string;
beforeAll(async () => {
  server = await startTestServer();
  const user = await makeUser(server);
  email = user.email;
  // An event from three days ago, for --since.
  await server.services.db.prisma.auditEvent.create({
    data: { type: 'login.failure', userId: user.id, at: new Date(Date.now() - 3 * 86_400_000) },
  });
  const app = await makeClient(server);
  await token(server, app, {
    grant_type: 'password',
    username: email,
    password: 'wrong password',
    scope: 'openid',
  });
  await token(server, app, {
    grant_type: 'password',
    username: email,
    password: PASSWORD,
    scope: 'openid',
  });
});
afterAll(async () => {
  await server?.stop();
});

async function auditList(argv: string[]) {
  const cmd = auditCommands.list!;
  return cmd.run(parseArgs(argv, cmd.options), {
    services: async () => server.services,
    readStdin: async () => '',
  });
}

type Row = {
  id: string;
  type: string;
  user_id: string | null;
  at: string;
  details: Record<string, unknown>;
};

describe('tessera audit list', () => {
  it('filters by user and type, newest first', async () => {
    const rows = (await auditList(['--user', email])).json as Row[];
    expect(rows.map((r) => r.type)).toEqual(
      expect.arrayContaining(['login.failure', 'login.success']),
    );
    expect(new Set(rows.map((r) => r.user_id)).size).toBe(1);
    // Newest recorded first.
    const ids = rows.map((r) => Number(r.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const failures = (await auditList(['--user', email, '--type', 'login.failure'])).json as Row[];
    expect(failures).toHaveLength(2);
    expect(failures.every((r) => r.type === 'login.failure')).toBe(true);
  });

  it('--since takes a duration or an ISO time', async () => {
    expect(
      (await auditList(['--user', email, '--type', 'login.failure', '--since', '1d']))
        .json as Row[],
    ).toHaveLength(1);
    expect(
      (
        await auditList([
          '--user',
          email,
          '--type',
          'login.failure',
          '--since',
          new Date(Date.now() - 7 * 86_400_000).toISOString(),
        ])
      ).json as Row[],
    ).toHaveLength(2);
  });

  it('an unknown user lists nothing (not everyone)', async () => {
    expect((await auditList(['--user', 'nobody@example.com'])).json).toEqual([]);
  });

  it('renders a table for people, never a password', async () => {
    const { text } = await auditList(['--user', email]);
    expect(text).toMatch(/login\.success/);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('wrong password');
  });

  it.each([
    ['--since', 'yesterday'],
    ['--since', '5w'],
    ['--limit', '0'],
    ['--limit', 'x'],
    ['--type', 'DROP TABLE'],
  ])('%s %s is a usage error', async (flag, value) => {
    await expect(auditList([flag, value])).rejects.toBeInstanceOf(UsageError);
  });

  it.each([
    ['30m', 30 * 60_000],
    ['2h', 2 * 3_600_000],
    ['7d', 7 * 86_400_000],
  ])('parseSince(%s) goes back %d ms', (value, ms) => {
    const now = new Date('2026-11-23T12:00:00Z');
    expect(parseSince(value, now).getTime()).toBe(now.getTime() - ms);
  });
});
