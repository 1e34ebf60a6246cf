/**
 * Password hashing with argon2id at the configured parameters (OWASP: m ≥ 19 MiB, t ≥ 2).
 * Verification of an unknown user runs against a dummy hash so that response time does not
 * reveal whether an account exists.
 */
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * At most `limit` argon2 computations at once; the rest wait in line (never rejected). Each
 * one holds `memoryCost` KiB (19 MiB at OWASP's minimum) on a libuv thread, and once the cores
 * are busy more of them in flight add memory, not throughput; capping them at the core count
 * also leaves libuv threads free for the rest of the server (WebCrypto signing, fs).
 */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

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

export class PasswordHasher {
  private dummy: Promise<string> | undefined;
  private readonly gate: Gate;

  constructor(
    private readonly params: Argon2Params,
    /** Concurrent argon2 computations; default one per core. */
    maxConcurrent = availableParallelism(),
  ) {
    this.gate = new Gate(Math.max(1, maxConcurrent));
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
