/**
 * The size of the process's libuv thread pool. argon2 hashes run on it (tens of milliseconds
 * each), and so do the short jobs: jose's signatures and verifications (Node runs WebCrypto
 * there), DNS lookups for new database connections, key generation. The server sizes it
 * (accounts/passwords.ts: threadPoolSize) so that one thread is always left to the short jobs.
 */
let threads: number | undefined;

/** UV_THREADPOOL_SIZE, read once (libuv reads it when the pool starts), else libuv's default of 4. */
export function libuvPoolSize(): number {
  return (threads ??= Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4));
}
