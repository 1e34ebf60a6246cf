/**
 * Failed-login counters in PostgreSQL, so every instance shares them. A failure is one atomic
 * upsert (INSERT … ON CONFLICT DO UPDATE): concurrent failures can never be lost to a
 * read-then-write race. The counter restarts when the previous failure is older than the
 * window, and once it reaches `maxFailures` the key is blocked for base·2^(n−max) seconds,
 * capped at `maxSeconds` — a delay that grows, never a permanent lock.
 */
import type { PrismaClient } from '../../generated/prisma/client';
import type { LoginBackoffPolicy, LoginThrottleRepository, LoginThrottleState } from '../types';

interface Row {
  key: string;
  failures: number;
  last_failure: Date;
  blocked_until: Date | null;
}

const toState = (r: Row): LoginThrottleState => ({ key: r.key, failures: r.failures, lastFailure: r.last_failure, blockedUntil: r.blocked_until });

export class PrismaLoginThrottleRepository implements LoginThrottleRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async find(keys: string[], at: Date, windowSeconds: number): Promise<LoginThrottleState[]> {
    const since = new Date(at.getTime() - windowSeconds * 1000);
    const rows = await this.prisma.loginThrottle.findMany({ where: { key: { in: keys }, lastFailure: { gt: since } } });
    return rows.map((r) => ({ key: r.key, failures: r.failures, lastFailure: r.lastFailure, blockedUntil: r.blockedUntil }));
  }

  async recordFailure(key: string, at: Date, policy: LoginBackoffPolicy): Promise<LoginThrottleState> {
    const since = new Date(at.getTime() - policy.windowSeconds * 1000);
    // One atomic statement: count the failure (restarting a stale counter) and compute the
    // block from the new count n: blocked for min(max, base·2^(n−maxFailures)) seconds once
    // n ≥ maxFailures. Column expressions in DO UPDATE see the old row, hence the repetition.
    const { maxFailures, baseSeconds, maxSeconds } = policy;
    const firstBlock = maxFailures <= 1 ? new Date(at.getTime() + Math.min(maxSeconds, baseSeconds) * 1000) : null;
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
      RETURNING t.key, t.failures, t.last_failure, t.blocked_until`;
    return toState(rows[0]!);
  }

  async reset(key: string): Promise<void> {
    await this.prisma.loginThrottle.deleteMany({ where: { key } });
  }
}
