/**
 * Guards: concurrent look-ups through the Batcher become one SQL statement (counted).
 *
 * The look-up batcher, and the deny-list/user look-up that introspection and userinfo make
 * through it, against a real database: concurrent questions become one statement and each
 * caller still gets its own answer.
 */
import { randomUUID } from 'node:crypto';
import { Batcher } from '../../src/db/batch';
import type { SqlExecutor } from '../../src/db/database';
import { PrismaRevokedAccessTokenRepository } from '../../src/persistence/postgres/revoked-tokens';
import { PrismaUserRepository } from '../../src/persistence/postgres/users';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** A deferred answer, so a test decides when a batch finishes. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('Batcher', () => {
  it('answers the keys asked in one turn of the event loop with one run, each caller its own value', async () => {
    const runs: number[][] = [];
    const b = new Batcher<number, string>(async (keys) => {
      runs.push(keys);
      return keys.map((k) => `v${k}`);
    });
    const answers = await Promise.all([1, 2, 3, 2].map((k) => b.load(k)));
    expect(answers).toEqual(['v1', 'v2', 'v3', 'v2']);
    expect(runs).toEqual([[1, 2, 3, 2]]);
    // A later turn is a new batch.
    expect(await b.load(9)).toBe('v9');
    expect(runs).toHaveLength(2);
  });

  it('splits at maxBatch and runs at most maxInFlight batches; keys asked meanwhile wait for the next', async () => {
    const pending: Array<{ keys: number[]; done: ReturnType<typeof deferred<number[]>> }> = [];
    const b = new Batcher<number, number>(
      (keys) => {
        const done = deferred<number[]>();
        pending.push({ keys, done });
        return done.promise;
      },
      { maxBatch: 2, maxInFlight: 2 },
    );
    const first = [1, 2, 3, 4, 5].map((k) => b.load(k));
    await turn();
    expect(pending.map((p) => p.keys)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const later = [6, 7].map((k) => b.load(k));
    await turn();
    expect(pending).toHaveLength(2); // both slots taken: 5, 6, 7 wait
    pending[0]!.done.resolve([10, 20]);
    await turn();
    await turn();
    expect(pending.map((p) => p.keys)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    pending[1]!.done.resolve([30, 40]);
    pending[2]!.done.resolve([50, 60]);
    await turn();
    await turn();
    expect(pending.map((p) => p.keys)).toEqual([[1, 2], [3, 4], [5, 6], [7]]);
    pending[3]!.done.resolve([70]);
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50, 60, 70]);
  });

  it('a failed batch rejects each of its callers with the error, and the next batch runs', async () => {
    let fail = true;
    const b = new Batcher<number, number>(async (keys) => {
      if (fail) throw new Error('database down');
      return keys;
    });
    const results = await Promise.allSettled([b.load(1), b.load(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.map((r) => (r as PromiseRejectedResult).reason.message)).toEqual([
      'database down',
      'database down',
    ]);
    fail = false;
    expect(await b.load(3)).toBe(3);
  });

  it('an answer of the wrong length rejects the batch rather than hand out misplaced values', async () => {
    const b = new Batcher<number, number>(async (keys) => keys.slice(1));
    await expect(Promise.all([b.load(1), b.load(2)])).rejects.toThrow('batch answered 1 of 2 keys');
  });
});

describe('deny-list and user look-up (revoked_access_tokens ⋈ users), batched', () => {
  let t: TestDatabase;
  let statements: number;
  let repo: PrismaRevokedAccessTokenRepository;
  let active: string;
  let disabled: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    const counting: SqlExecutor = {
      query(name, text, values, options) {
        statements++;
        return t.db.sql.query(name, text, values, options);
      },
    };
    repo = new PrismaRevokedAccessTokenRepository(t.db.prisma, counting);
    const users = new PrismaUserRepository(t.db.prisma, t.db.sql);
    const newUser = (email: string) => users.create({ email, passwordHash: 'x' });
    active = (await newUser(`a-${randomUUID()}@example.com`)).id;
    disabled = (await newUser(`d-${randomUUID()}@example.com`)).id;
    await users.setDisabled(disabled, true, new Date());
    await repo.revoke('revoked-jti', new Date(Date.now() + 60_000), 'test');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('answers every question asked at once with one statement, each with its own verdict and user', async () => {
    statements = 0;
    const [a, b, c, d, e, f, g] = await Promise.all([
      repo.isRevokedWithUser('revoked-jti', active),
      repo.isRevokedWithUser('fresh-jti', active),
      repo.isRevokedWithUser('fresh-jti', disabled),
      repo.isRevokedWithUser('fresh-jti', randomUUID()), // no such user
      repo.isRevokedWithUser('revoked-jti', 'not-a-uuid'),
      repo.isRevoked('revoked-jti'),
      repo.isRevoked('other-jti'),
    ]);
    expect(statements).toBe(1);
    expect([a.revoked, a.user?.id, a.user?.disabled]).toEqual([true, active, false]);
    expect([b.revoked, b.user?.id]).toEqual([false, active]);
    expect([c.revoked, c.user?.id, c.user?.disabled]).toEqual([false, disabled, true]);
    expect(d).toEqual({ revoked: false, user: null });
    expect(e).toEqual({ revoked: true, user: null });
    expect([f, g]).toEqual([true, false]);
    expect(b.user?.createdAt).toBeInstanceOf(Date);
  });

  it('a jti no token could carry is never revoked and never reaches the database alone', async () => {
    statements = 0;
    expect(await repo.isRevoked('')).toBe(false);
    expect(await repo.isRevoked('j'.repeat(201))).toBe(false);
    expect(statements).toBe(0);
    const r = await repo.isRevokedWithUser('j'.repeat(201), active);
    expect([r.revoked, r.user?.id]).toEqual([false, active]);
  });
});
