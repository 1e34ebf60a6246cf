/**
 * The process's libuv thread pool, as far as Tessera's own jobs are concerned: how many threads
 * it has and how many argon2 hashes (tens of milliseconds each) it has been handed, running or
 * waiting in its queue. Short jobs (signatures, ES256 verification; tens of microseconds) go to
 * the pool only while a thread is free of hashes: queued behind hashes they would wait for one
 * to finish, so with every thread hashing they run inline on the main thread instead
 * (keys/jws.ts).
 *
 * One pool per process, so one tracker per process. The server sizes the pool to the hashes it
 * admits (main.ts, accounts/passwords.ts: threadPoolSize): during a burst of logins every
 * thread hashes.
 */
export class ThreadPoolUse {
  private hashing = 0;
  private threads: number | undefined;

  /** The pool's size: UV_THREADPOOL_SIZE, read once (libuv reads it when the pool starts), else libuv's default of 4. */
  get size(): number {
    return (this.threads ??= Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4));
  }

  /** Hashes handed to the pool right now, running or queued in it. */
  get hashes(): number {
    return this.hashing;
  }

  /** Runs `job` (one argon2 computation handed to the pool) and counts it until it settles. */
  async hash<T>(job: () => Promise<T>): Promise<T> {
    this.hashing++;
    try {
      return await job();
    } finally {
      this.hashing--;
    }
  }

  /** True when a short job submitted now would find a thread not held by a hash. */
  hasFreeThread(): boolean {
    return this.hashing < this.size;
  }
}

export const threadPool = new ThreadPoolUse();
