/**
 * `tessera clients create` with lifetime flags, and `clients disable|enable|delete`, against a
 * fresh PostgreSQL database: what each writes, what it refuses, and that a deleted client's
 * refresh tokens go with it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { runCliInProcess, type CliRun } from '../support/cli';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '../support/database';

const KEK = randomBytes(32).toString('base64');
const json = (r: CliRun) => {
  expect([r.code, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

describeOnPostgres('clients lifecycle CLI')('clients lifecycle (PostgreSQL)', () => {
  let database: TestDatabase;
  const tessera = (args: string[]) =>
    runCliInProcess(args, { DATABASE_URL: database.url!, KEY_ENCRYPTION_KEY: KEK });
  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 2 });
  });
  afterAll(() => database?.drop());

  const create = async (...extra: string[]) =>
    json(
      await tessera([
        'clients',
        'create',
        '--name',
        'Svc',
        '--grant',
        'client_credentials',
        ...extra,
        '--json',
      ]),
    ).client_id as string;

  it('create takes the token lifetimes as flags, and refuses a bad one naming the flag', async () => {
    const id = await create('--access-token-ttl', '120', '--refresh-token-idle-ttl', '3600');
    const row = await database.db.prisma.client.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ accessTokenTtl: 120, refreshTokenIdleTtl: 3600, idTokenTtl: null });
    const bad = await tessera(['clients', 'create', '--name', 'x', '--access-token-ttl', '2h']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--access-token-ttl must be a whole number of seconds/);
    const zero = await tessera(['clients', 'create', '--name', 'x', '--id-token-ttl', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--id-token-ttl/);
  });

  it('disable and enable flip the client, audited', async () => {
    const id = await create();
    expect(json(await tessera(['clients', 'disable', '--client-id', id, '--json']))).toEqual({
      client_id: id,
      disabled: true,
    });
    expect((await database.db.prisma.client.findUniqueOrThrow({ where: { id } })).disabled).toBe(
      true,
    );
    json(await tessera(['clients', 'enable', '--client-id', id, '--json']));
    expect((await database.db.prisma.client.findUniqueOrThrow({ where: { id } })).disabled).toBe(
      false,
    );
    const events = await database.db.prisma.auditEvent.findMany({ where: { clientId: id } });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['client.disabled', 'client.enabled']),
    );
    const unknown = await tessera(['clients', 'disable', '--client-id', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no client nope/);
  });

  it('delete needs --yes, then removes the client and its refresh tokens', async () => {
    const id = await create('--grant', 'refresh_token', '--grant', 'password', '--first-party');
    const user = await database.db.prisma.user.create({
      data: { id: randomUUID(), email: `${randomUUID()}@example.com`, passwordHash: 'x' },
    });
    await database.db.prisma.refreshTokenFamily.create({
      data: {
        id: randomUUID(),
        clientId: id,
        userId: user.id,
        scope: 'openid',
        authTime: new Date(),
        expiresAt: new Date(Date.now() + 3_600_000),
      },
    });
    const refused = await tessera(['clients', 'delete', '--client-id', id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(await database.db.prisma.client.count({ where: { id } })).toBe(1);
    expect(
      json(await tessera(['clients', 'delete', '--client-id', id, '--yes', '--json'])),
    ).toEqual({ client_id: id, deleted: true });
    expect(await database.db.prisma.client.count({ where: { id } })).toBe(0);
    expect(await database.db.prisma.refreshTokenFamily.count({ where: { clientId: id } })).toBe(0);
  });
});
