/**
 * Guards: a password login is two SQL statements, whatever its outcome (counted).
 *
 * A password login's database work (accounts/login.ts over LoginRepository): two statements
 * whatever the outcome — the counting (with the account) before the password is checked, the
 * bookkeeping after — and a success's bookkeeping, with the family the login opens, stored all
 * or nothing. A real database, counted statements. Runs on PGlite too.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  checkPassword,
  LoginRejected,
  verifyLogin,
  type LoginDeps,
} from '../../src/accounts/login';
import { PasswordHasher } from '../../src/accounts/passwords';
import type { SqlExecutor } from '../../src/db/database';
import type { OpeningFamily } from '../../src/tokens/refresh-token-storage';
import { PrismaAuditLog } from '../../src/persistence/postgres/audit';
import { PrismaLoginRepository } from '../../src/persistence/postgres/logins';
import { PrismaRefreshTokenRepository } from '../../src/persistence/postgres/refresh-tokens';
import { PrismaUserRepository } from '../../src/persistence/postgres/users';
import { systemClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database';
import { PASSWORD } from '../support/fixtures';

const CLIENT = 'login-client';
const passwords = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
const config = {
  LOGIN_MAX_FAILURES: 5,
  IP_MAX_FAILURES: 20,
  LOGIN_BACKOFF_BASE: 10,
  LOGIN_BACKOFF_MAX: 60,
  LOGIN_FAILURE_WINDOW: 600,
} as LoginDeps['config'];

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.prisma.client.create({ data: { id: CLIENT, name: CLIENT } });
});
afterAll(async () => {
  await t?.drop();
});

/** Login services on the test database whose statements are named in `statements`. */
function services(statements: string[]): LoginDeps {
  const sql: SqlExecutor = {
    query(name, text, values, options) {
      statements.push(name);
      return t.db.sql.query(name, text, values, options);
    },
  };
  return {
    users: new PrismaUserRepository(t.db.prisma, sql),
    passwords,
    audit: new PrismaAuditLog(t.db.prisma, sql),
    clock: systemClock,
    logins: new PrismaLoginRepository(sql),
    config,
    log: createLogger('silent'),
  };
}

async function newUser(): Promise<{ id: string; email: string }> {
  const users = new PrismaUserRepository(t.db.prisma, t.db.sql);
  return users.create({
    email: `${randomUUID()}@example.com`,
    passwordHash: await passwords.hash(PASSWORD),
  });
}

function opening(tokenHash: string): OpeningFamily {
  const later = new Date(Date.now() + 3_600_000);
  return {
    family: {
      clientId: CLIENT,
      sessionId: null,
      scope: 'openid offline_access',
      authTime: new Date(),
      amr: ['pwd'],
      expiresAt: later,
    },
    first: {
      tokenHash,
      scope: 'openid offline_access',
      accessTokenJti: randomUUID(),
      accessTokenExpiresAt: later,
      idleExpiresAt: later,
    },
  };
}

const throttle = (key: string) => t.db.prisma.loginThrottle.findUnique({ where: { key } });
const successes = (userId: string) =>
  t.db.prisma.auditEvent.findMany({ where: { userId, type: 'login.success' } });

it('a success takes two statements and stores the login with the family it opens', async () => {
  const user = await newUser();
  const ip = '192.0.2.10';
  const failed: string[] = [];
  await expect(
    verifyLogin(services(failed), { email: user.email, password: 'wrong', ip }),
  ).rejects.toBeInstanceOf(LoginRejected);
  expect(failed).toEqual(['login_begin', 'audit_insert']);

  const statements: string[] = [];
  const open = opening(randomUUID());
  const before = Date.now();
  // The family is decided once the password matched (its moment is the login's time) and
  // stored by the login's own success statement.
  const order: string[] = [];
  const checking = Object.assign(Object.create(passwords) as PasswordHasher, {
    verify: async (hash: string, password: string) => {
      const ok = await passwords.verify(hash, password);
      order.push('password checked');
      return ok;
    },
  });
  const attempt = {
    email: ` ${user.email.toUpperCase()} `,
    password: PASSWORD,
    ip,
    clientId: CLIENT,
    requestId: 'req-1',
  };
  const verified = await checkPassword({ ...services(statements), passwords: checking }, attempt);
  order.push('verified');
  expect(statements).toEqual(['login_begin']); // nothing of the success stored yet
  const asked = verified.at;
  await verified.succeed(open);
  expect(order).toEqual(['password checked', 'verified']);
  expect(verified.user.id).toBe(user.id);
  expect(statements).toEqual(['login_begin', 'login_succeed_with_family']);

  // The account counter is forgotten; the IP keeps the failure, not the successful attempt.
  expect(await throttle(`acct:${user.email}`)).toBeNull();
  expect((await throttle(`ip:${ip}`))?.failures).toBe(1);
  const row = await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
  expect(asked.getTime()).toBeGreaterThanOrEqual(before);
  expect(row.lastLoginAt!.getTime()).toBe(asked.getTime());
  expect(await successes(user.id)).toEqual([
    expect.objectContaining({ clientId: CLIENT, ip, requestId: 'req-1' }),
  ]);
  const token = await new PrismaRefreshTokenRepository(t.db.prisma, t.db.sql).findByHash(
    open.first.tokenHash,
  );
  expect(token?.family).toMatchObject({
    userId: user.id,
    clientId: CLIENT,
    scope: 'openid offline_access',
    amr: ['pwd'],
  });
  expect(token?.token.accessTokenJti).toBe(open.first.accessTokenJti);
});

it('a success without a family is one statement after the check', async () => {
  const user = await newUser();
  const statements: string[] = [];
  await verifyLogin(services(statements), {
    email: user.email,
    password: PASSWORD,
    ip: '192.0.2.11',
  });
  expect(statements).toEqual(['login_begin', 'login_succeed']);
  expect(await successes(user.id)).toHaveLength(1);
});

it('a success whose family cannot be stored stores nothing of the login', async () => {
  const user = await newUser();
  const ip = '192.0.2.12';
  const taken = opening(randomUUID());
  await new PrismaRefreshTokenRepository(t.db.prisma, t.db.sql).createFamily(
    { ...taken.family, userId: user.id },
    taken.first,
  );

  // Same token hash again: the family's insert fails, and with it the whole statement.
  const verified = await checkPassword(services([]), { email: user.email, password: PASSWORD, ip });
  await expect(verified.succeed(opening(taken.first.tokenHash))).rejects.not.toBeInstanceOf(
    LoginRejected,
  );
  expect((await throttle(`acct:${user.email}`))?.failures).toBe(1); // counted, never settled
  expect((await throttle(`ip:${ip}`))?.failures).toBe(1);
  expect(
    (await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).lastLoginAt,
  ).toBeNull();
  expect(await successes(user.id)).toHaveLength(0);
  expect(await t.db.prisma.refreshTokenFamily.count({ where: { userId: user.id } })).toBe(1);
});

it('an email PostgreSQL cannot store is an unknown account, counted like any other', async () => {
  const statements: string[] = [];
  await expect(
    verifyLogin(services(statements), {
      email: 'nul\0@example.com',
      password: PASSWORD,
      ip: '192.0.2.13',
    }),
  ).rejects.toBeInstanceOf(LoginRejected);
  expect(statements).toEqual(['login_begin', 'audit_insert']);
  expect((await throttle('ip:192.0.2.13'))?.failures).toBe(1);
});

const policy = { maxFailures: 5, baseSeconds: 10, maxSeconds: 60, windowSeconds: 600 };
const newKeys = () =>
  [
    { key: `acct:${randomUUID()}`, policy },
    { key: `ip:${randomUUID()}`, policy },
  ] as const;

/** `fn` with a login repository over one dedicated connection. */
async function onOneConnection(
  fn: (client: pg.Client, logins: PrismaLoginRepository) => Promise<void>,
): Promise<void> {
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    const sql: SqlExecutor = {
      query: async (name, text, values) =>
        (await client.query({ name, text, values: values as unknown[] })).rows,
    };
    await fn(client, new PrismaLoginRepository(sql));
  } finally {
    await client.end();
  }
}

/** The brute-force counters commit durably: seen inside the counting statement's own transaction. */
(serverUrl() ? it : it.skip)(
  'the counting statement commits with synchronous_commit on (PostgreSQL)',
  async () => {
    await onOneConnection(async (client, logins) => {
      await client.query('BEGIN');
      try {
        const [account, ip] = newKeys();
        expect(
          (await logins.begin(`${randomUUID()}@example.com`, account, ip, new Date())).ip?.allowed,
        ).toBe(true);
        const {
          rows: [shown],
        } = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
        expect(shown!.synchronous_commit).toBe('on');
      } finally {
        await client.query('ROLLBACK');
      }
    });
  },
);

/**
 * The counting statement returns only once its commit is flushed: right after it,
 * the WAL's flushed position has passed where the WAL stood before it, every time.
 */
(serverUrl() ? it : it.skip)(
  'the counting statement waits for the WAL flush (PostgreSQL)',
  async () => {
    await onOneConnection(async (client, logins) => {
      for (let i = 0; i < 10; i++) {
        const {
          rows: [before],
        } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
        const [account, ip] = newKeys();
        expect(
          (await logins.begin(`${randomUUID()}@example.com`, account, ip, new Date())).ip?.allowed,
        ).toBe(true);
        const {
          rows: [after],
        } = await client.query<{ flushed: boolean }>(
          'SELECT pg_current_wal_flush_lsn() > $1::pg_lsn AS flushed',
          [before!.lsn],
        );
        expect(after!.flushed).toBe(true);
      }
    });
  },
);
