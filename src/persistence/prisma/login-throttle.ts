/**
 * Failed-login counters in PostgreSQL, so every instance shares them. An attempt is counted
 * with one atomic upsert (INSERT … ON CONFLICT DO UPDATE … WHERE not blocked) before the
 * password is checked, so concurrent guesses can neither be lost to a read-then-write race
 * nor all pass a check made before any of them was recorded. The counter restarts when its
 * previous failure is older than the window; once it reaches `maxFailures` the key is blocked
 * for base·2^(n−max) seconds, capped at `maxSeconds` — a delay that grows, never a permanent lock.
 */
import type { PrismaClient } from '../../generated/prisma/client';
import type { LoginAttemptSlot, LoginBackoffPolicy, LoginThrottleRepository } from '../types';

interface Row {
  key: string;
  failures: number;
  last_failure: Date;
  blocked_until: Date | null;
}

export class PrismaLoginThrottleRepository implements LoginThrottleRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async tryAttempt(key: string, at: Date, policy: LoginBackoffPolicy): Promise<LoginAttemptSlot> {
    const since = new Date(at.getTime() - policy.windowSeconds * 1000);
    const { maxFailures, baseSeconds, maxSeconds } = policy;
    const firstBlock = maxFailures <= 1 ? new Date(at.getTime() + Math.min(maxSeconds, baseSeconds) * 1000) : null;
    // n = the count after this attempt; column expressions in DO UPDATE see the old row,
    // hence the repetition. A blocked key matches no row in the WHERE and is left untouched.
    const rows = await this.prisma.$queryRaw<Row[]>`
      INSERT INTO login_throttles AS t (key, failures, first_failure, last_failure, blocked_until)
      VALUES (${key}, 1, ${at}, ${at}, ${firstBlock})
      ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN t.last_failure <= ${since} THEN 1 ELSE t.failures + 1 END,
        first_failure = CASE WHEN t.last_failure <= ${since} THEN ${at} ELSE t.first_failure END,
        last_failure = ${at},
        blocked_until = CASE
          WHEN (CASE WHEN t.last_failure <= ${since} THEN 1 ELSE t.failures + 1 END) >= ${maxFailures}::int
          THEN ${at}::timestamptz + make_interval(secs => LEAST(${maxSeconds}::float8,
                 ${baseSeconds}::float8 * power(2::float8, LEAST((CASE WHEN t.last_failure <= ${since} THEN 1 ELSE t.failures + 1 END) - ${maxFailures}::int, 40))))
          ELSE NULL END
      WHERE t.blocked_until IS NULL OR t.blocked_until <= ${at}
      RETURNING t.key, t.failures, t.last_failure, t.blocked_until`;
    const row = rows[0];
    if (row) return { allowed: true, state: { key: row.key, failures: row.failures, lastFailure: row.last_failure, blockedUntil: row.blocked_until } };
    const current = await this.prisma.loginThrottle.findUnique({ where: { key }, select: { blockedUntil: true } });
    return { allowed: false, blockedUntil: current?.blockedUntil ?? at };
  }

  async release(key: string, policy: LoginBackoffPolicy): Promise<void> {
    const { maxFailures, baseSeconds, maxSeconds } = policy;
    await this.prisma.$executeRaw`
      UPDATE login_throttles SET
        failures = GREATEST(failures - 1, 0),
        blocked_until = CASE
          WHEN failures - 1 >= ${maxFailures}::int
          THEN last_failure + make_interval(secs => LEAST(${maxSeconds}::float8,
                 ${baseSeconds}::float8 * power(2::float8, LEAST(failures - 1 - ${maxFailures}::int, 40))))
          ELSE NULL END
      WHERE key = ${key}`;
  }

  async reset(key: string): Promise<void> {
    await this.prisma.loginThrottle.deleteMany({ where: { key } });
  }
}
