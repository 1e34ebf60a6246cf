/**
 * Guards: refresh rotations asked for together share one SQL statement (counted).
 *
 * Refresh rotations asked for at about the same time share one statement (rotateRefreshToken() through a
 * Batcher), and each keeps the single-use guarantee on its own: a real database, counted
 * statements. Runs on PGlite too.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../../src/db/database';
import { PrismaRefreshTokenRepository } from '../../src/persistence/postgres/refresh-tokens';
import { PrismaUserRepository } from '../../src/persistence/postgres/users';
import { createTestDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
let userId: string;
const later = new Date(Date.now() + 3_600_000);

beforeAll(async () => {
  t = await createTestDatabase();
  userId = (
    await new PrismaUserRepository(t.db.prisma, t.db.sql).create({
      email: `${randomUUID()}@example.com`,
      passwordHash: 'x',
    })
  ).id;
  await t.db.prisma.client.create({ data: { id: 'batch-client', name: 'batch' } });
});
afterAll(async () => {
  await t?.drop();
});

/** A repository whose rotation statements are counted (and can be made to fail). */
function counting(fail?: (attempt: number) => Error | undefined) {
  const statements: unknown[][] = [];
  const sql: SqlExecutor = {
    query(name, text, values, options) {
      if (name === 'refresh_rotate_batch') {
        statements.push(values as unknown[]);
        const err = fail?.(statements.length);
        if (err) return Promise.reject(err);
      }
      return t.db.sql.query(name, text, values, options);
    },
  };
  return { repo: new PrismaRefreshTokenRepository(t.db.prisma, sql), statements };
}

async function newLogin(
  repo: PrismaRefreshTokenRepository,
  clientId = 'batch-client',
): Promise<string> {
  const hash = randomUUID();
  await repo.createFamily(
    { clientId, userId, scope: 'openid', authTime: new Date(), amr: ['pwd'], expiresAt: later },
    {
      tokenHash: hash,
      scope: 'openid',
      accessTokenJti: randomUUID(),
      accessTokenExpiresAt: later,
      idleExpiresAt: later,
    },
  );
  return hash;
}

const successor = () => ({
  id: randomUUID(),
  tokenHash: randomUUID(),
  accessTokenJti: randomUUID(),
  accessTokenExpiresAt: later,
  idleExpiresAt: later,
  retrySeal: randomBytes(60),
});

async function childrenOf(hash: string): Promise<number> {
  const rows = await t.db.prisma.$queryRaw<{ n: number }[]>`
    SELECT count(c.id)::int AS n FROM refresh_tokens p JOIN refresh_tokens c ON c.parent_id = p.id WHERE p.token_hash = ${hash}`;
  return rows[0]!.n;
}

it('eight concurrent rotations of different logins: one statement, each its own successor', async () => {
  const { repo, statements } = counting();
  const hashes = await Promise.all(Array.from({ length: 8 }, () => newLogin(repo)));
  const successors = hashes.map(() => successor());
  const results = await Promise.all(
    hashes.map((h, i) => repo.rotateRefreshToken(h, 'batch-client', new Date(), successors[i]!)),
  );
  expect(statements).toHaveLength(1);
  results.forEach((r, i) => {
    expect(r?.rotated).toMatchObject({
      tokenHash: successors[i]!.tokenHash,
      accessTokenJti: successors[i]!.accessTokenJti,
      scope: 'openid',
    });
  });
  for (const [i, h] of hashes.entries()) {
    expect(await childrenOf(h)).toBe(1);
    expect((await repo.findByHash(successors[i]!.tokenHash))?.token.parentId).toBe(
      results[i]!.rotated.parentId,
    );
  }
});

it('the same token five times in one batch: exactly one rotation, one successor', async () => {
  const { repo, statements } = counting();
  const hash = await newLogin(repo);
  const results = await Promise.all(
    Array.from({ length: 5 }, () =>
      repo.rotateRefreshToken(hash, 'batch-client', new Date(), successor()),
    ),
  );
  expect(statements).toHaveLength(1);
  expect(results.filter((r) => r !== null)).toHaveLength(1);
  expect(await childrenOf(hash)).toBe(1);
});

it('refused rows change nothing and do not hold back the others in their batch', async () => {
  const { repo, statements } = counting();
  const good = await newLogin(repo);
  const otherClients = await newLogin(repo);
  const rotatedBefore = await newLogin(repo);
  expect(
    await repo.rotateRefreshToken(rotatedBefore, 'batch-client', new Date(), successor()),
  ).not.toBeNull();
  const before = statements.length;
  const results = await Promise.all([
    repo.rotateRefreshToken(good, 'batch-client', new Date(), successor()),
    repo.rotateRefreshToken(otherClients, 'another-client', new Date(), successor()),
    repo.rotateRefreshToken(rotatedBefore, 'batch-client', new Date(), successor()),
    repo.rotateRefreshToken(randomUUID(), 'batch-client', new Date(), successor()),
  ]);
  expect(statements.length - before).toBe(1);
  expect(results.map((r) => r !== null)).toEqual([true, false, false, false]);
  expect((await repo.findByHash(otherClients))?.token.rotatedAt).toBeNull();
  expect(await childrenOf(rotatedBefore)).toBe(1);
});

it('a batch that lost a deadlock is run again; any other failure reaches every caller in it', async () => {
  const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
  const retried = counting((attempt) => (attempt === 1 ? deadlock : undefined));
  const hashes = await Promise.all([newLogin(retried.repo), newLogin(retried.repo)]);
  const results = await Promise.all(
    hashes.map((h) => retried.repo.rotateRefreshToken(h, 'batch-client', new Date(), successor())),
  );
  expect(retried.statements).toHaveLength(2);
  expect(results.every((r) => r !== null)).toBe(true);

  const broken = Object.assign(new Error('connection terminated'), { code: '57P01' });
  const failing = counting(() => broken);
  const more = await Promise.all([newLogin(failing.repo), newLogin(failing.repo)]);
  const outcomes = await Promise.allSettled(
    more.map((h) => failing.repo.rotateRefreshToken(h, 'batch-client', new Date(), successor())),
  );
  expect(failing.statements).toHaveLength(1);
  expect(outcomes).toEqual([
    { status: 'rejected', reason: broken },
    { status: 'rejected', reason: broken },
  ]);
  for (const h of more) expect((await failing.repo.findByHash(h))?.token.rotatedAt).toBeNull();
});
