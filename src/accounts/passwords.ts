/**
 * Password hashing with argon2id at the configured parameters (OWASP: m ≥ 19 MiB, t ≥ 2).
 * Verification of an unknown user runs against a dummy hash so that response time does not
 * reveal whether an account exists.
 */
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { libuvPoolSize } from '../shared/thread-pool';

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
      if (next)
        next(); // the slot passes straight to the next in line
      else this.active--;
    }
  }
}

/**
 * The libuv pool size the server gives itself when UV_THREADPOOL_SIZE is not set: one thread
 * per admitted argon2 computation (`hashConcurrency`, default one per core) and one more, so
 * that jose's signatures and verifications (WebCrypto jobs on the same pool), DNS lookups and
 * key generation never wait behind a hash of tens of milliseconds. No more than that: with
 * spare threads, consecutive hashes land on whichever thread woke, often one last run on the
 * busy core, and the scheduler leaves the other core idle until it rebalances.
 */
export function threadPoolSize(hashConcurrency: number | undefined): number {
  return Math.max(1, hashConcurrency ?? availableParallelism()) + 1;
}

/**
 * argon2id hashing and verification, at most `computing` at once. Each computation holds
 * `memoryCost` KiB (19 MiB at OWASP's minimum) on a libuv thread, so `computing` is what bounds
 * the memory logins take: computing × memoryCost. The default is one per CPU core: argon2id is
 * CPU-bound, so more at once cannot finish more per second. It never takes the pool's last
 * thread (unless the pool has only one): that one stays free for the short jobs
 * (threadPoolSize).
 */
export class PasswordHasher {
  private dummy: Promise<string> | undefined;
  /** argon2 computations running at once. */
  readonly computing: number;
  /** The gate every argon2 computation passes (its `limit`: how many are handed to libuv at once). */
  readonly gate: Gate;

  constructor(
    private readonly params: Argon2Params,
    /** Concurrent argon2 computations; default one per core, never the libuv pool's last thread. */
    maxConcurrent = availableParallelism(),
  ) {
    this.computing = Math.max(1, Math.min(maxConcurrent, libuvPoolSize() - 1));
    this.gate = new Gate(this.computing);
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => argon2.hash(password, { type: argon2.argon2id, ...this.params }));
  }

  /** False for any malformed hash as well as for a wrong password. */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await this.gate.run(() => argon2.verify(hash, password));
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
