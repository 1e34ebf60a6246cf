/**
 * Limit: argon2id verify throughput at the server's parameters, using every core the way the
 * server does — through the libuv thread pool, `inFlight` verifies at a time. The pool size
 * (UV_THREADPOOL_SIZE) is set by the orchestrator to the same value the server gets.
 */
import argon2 from 'argon2';

interface Argon2Limit {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  inFlight: number;
  warmupMs: number;
  durationMs: number;
}

async function measure(p: Argon2Limit): Promise<{ perSecond: number; inFlight: number; threadPool: string }> {
  const hash = await argon2.hash('correct horse battery staple', { type: argon2.argon2id, memoryCost: p.memoryCost, timeCost: p.timeCost, parallelism: p.parallelism });
  const start = Date.now();
  const measureStart = start + p.warmupMs;
  const end = measureStart + p.durationMs;
  let counted = 0;
  const lane = async () => {
    while (Date.now() < end) {
      const ok = await argon2.verify(hash, 'correct horse battery staple');
      if (!ok) throw new Error('argon2 verify failed');
      const now = Date.now();
      if (now >= measureStart && now <= end) counted++;
    }
  };
  await Promise.all(Array.from({ length: p.inFlight }, lane));
  return { perSecond: Math.round((counted / p.durationMs) * 10_000) / 10, inFlight: p.inFlight, threadPool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' };
}

process.once('message', (p: Argon2Limit) => {
  measure(p).then(
    (r) => process.send!(r, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`argon2 limit: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
