import { availableParallelism } from 'node:os';
import { Gate, PasswordHasher, threadPoolSize } from '../../src/accounts/passwords';
import { libuvPoolSize } from '../../src/shared/thread-pool';

const PARAMS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('Gate (argon2 concurrency)', () => {
  it('runs at most `limit` tasks at once, the rest in arrival order, and every one completes', async () => {
    const gate = new Gate(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const task = (i: number) =>
      gate.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return i;
      });
    const all = Promise.all([0, 1, 2, 3, 4].map(task));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(await all).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('frees the slot when a task fails', async () => {
    const gate = new Gate(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
  });
});

describe('PasswordHasher', () => {
  it('computes one hash per core by default, leaving the libuv pool one thread for short jobs', () => {
    const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    expect(libuvPoolSize()).toBe(pool);
    expect(new PasswordHasher(PARAMS).computing).toBe(Math.min(availableParallelism(), pool - 1));
    expect(new PasswordHasher(PARAMS, 1).computing).toBe(1);
    expect(new PasswordHasher(PARAMS, 1000).computing).toBe(pool - 1);
    expect(new PasswordHasher(PARAMS, 1000).gate.limit).toBe(pool - 1);
  });

  it.each([
    [1, 2],
    [2, 3],
    [undefined, availableParallelism() + 1],
  ])('threadPoolSize(%p) is %i: one thread per admitted hash and one more', (concurrency, size) => {
    expect(threadPoolSize(concurrency)).toBe(size);
  });

  it('verifies what it hashed and refuses another password', async () => {
    const hasher = new PasswordHasher(PARAMS, 1);
    const hash = await hasher.hash('correct horse');
    await expect(
      Promise.all([hasher.verify(hash, 'correct horse'), hasher.verify(hash, 'wrong horse')]),
    ).resolves.toEqual([true, false]);
  });
});
