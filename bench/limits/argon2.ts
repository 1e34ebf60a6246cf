/**
 * Limit: argon2id verify throughput at the server's parameters, using every core the way the
 * server does — through the libuv thread pool, `inFlight` verifies at a time. The pool size
 * (UV_THREADPOOL_SIZE) and glibc malloc's settings (MALLOC_*) are set by the orchestrator to
 * what the server gets.
 */
import argon2 from 'argon2';
import { closedLoopRate, serveProbe, type ClosedLoop } from './closed-loop';

interface Argon2Limit extends ClosedLoop {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

async function measure(
  p: Argon2Limit,
): Promise<{ perSecond: number; inFlight: number; threadPool: string }> {
  const hash = await argon2.hash('correct horse battery staple', {
    type: argon2.argon2id,
    memoryCost: p.memoryCost,
    timeCost: p.timeCost,
    parallelism: p.parallelism,
  });
  const perSecond = await closedLoopRate(p, async () => {
    if (!(await argon2.verify(hash, 'correct horse battery staple')))
      throw new Error('argon2 verify failed');
  });
  return {
    perSecond,
    inFlight: p.inFlight,
    threadPool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  };
}

serveProbe('argon2', measure);
