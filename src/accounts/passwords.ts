/**
 * Password hashing with argon2id at the configured parameters (OWASP: m ≥ 19 MiB, t ≥ 2).
 * Verification of an unknown user runs against a dummy hash so that response time does not
 * reveal whether an account exists.
 */
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { threadPool } from '../shared/thread-pool';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * At most `limit` tasks at once; the rest wait in line (never rejected). PasswordHasher puts
 * argon2 computations through it: see there for the limit it sets.
 */
export class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next in line
      else this.active--;
    }
  }
}

/**
 * The libuv pool size the server gives itself when UV_THREADPOOL_SIZE is not set: one thread
 * per admitted argon2 computation (`hashConcurrency`, default one per core). With spare threads
 * (libuv's default is 4) consecutive hashes land on whichever thread woke, often one last run
 * on the busy core, and the scheduler leaves the other core idle until it rebalances; with one
 * thread per hash, the thread that finished a hash takes the next on the core it just left.
 * A performance bypass (docs/performance.md). While every thread hashes, tokens are signed and
 * verified inline (shared/thread-pool.ts); the server's other pool work (a DNS lookup for a new
 * database connection, key generation) waits for at most one hash.
 */
export function threadPoolSize(hashConcurrency: number | undefined): number {
  return Math.max(1, hashConcurrency ?? availableParallelism());
}

/**
 * argon2id hashing and verification, at most `computing` at once. Each computation holds
 * `memoryCost` KiB (19 MiB at OWASP's minimum) on a libuv thread, so `computing` is what bounds
 * the memory logins take: computing × memoryCost. The default is one per CPU core: argon2id is
 * CPU-bound, so more at once cannot finish more per second, only hold more memory. Beyond the
 * pool's size a hash cannot run anyway.
 *
 * When every pool thread may hash (the server's default: threadPoolSize), the gate admits one
 * more, which waits in libuv's own queue holding no memory: a thread that finishes a hash
 * starts that one at once, instead of idling until the main thread has taken the finished
 * hash's result and handed over the next. Signing does not
 * queue behind it: with every thread hashing it runs inline (shared/thread-pool.ts).
 */
export class PasswordHasher {
  private dummy: Promise<string> | undefined;
  /** argon2 computations running at once. */
  readonly computing: number;
  /** The gate every argon2 computation passes (its `limit`: how many are handed to libuv at once). */
  readonly gate: Gate;

  constructor(
    private readonly params: Argon2Params,
    /** Concurrent argon2 computations; default one per core, never more than the libuv pool. */
    maxConcurrent = availableParallelism(),
  ) {
    this.computing = Math.max(1, Math.min(maxConcurrent, threadPool.size));
    this.gate = new Gate(this.computing === threadPool.size ? this.computing + 1 : this.computing);
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => threadPool.hash(() => argon2.hash(password, { type: argon2.argon2id, ...this.params })));
  }

  /** False for any malformed hash as well as for a wrong password. */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await this.gate.run(() => threadPool.hash(() => argon2.verify(hash, password)));
    } catch {
      return false;
    }
  }

  /** Spends the same time as a real verification, and always fails. */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash('tessera-dummy-password');
    await this.verify(await this.dummy, password);
    return false;
  }

  /** True when the hash was made with other parameters than the configured ones. */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, { ...this.params });
    } catch {
      return true;
    }
  }
}
