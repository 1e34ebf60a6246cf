/**
 * Failed-login counters in PostgreSQL, so every instance shares them. An attempt is counted
 * with one atomic upsert (INSERT … ON CONFLICT DO UPDATE … WHERE not blocked) before the
 * password is checked, so concurrent guesses can neither be lost to a read-then-write race
 * nor all pass a check made before any of them was recorded. The counter restarts when its
 * previous failure is older than the window; once it reaches `maxFailures` the key is blocked
 * for base·2^(n−max) seconds, capped at `maxSeconds` — a delay that grows, never a permanent lock.
 */
import type { SqlExecutor } from '../../db/database';
import type { LoginAttemptSlot, LoginBackoffPolicy, LoginThrottleRepository } from '../types';

interface Row {
  key: string;
  failures: number;
  lastFailure: Date;
  blockedUntil: Date | null;
}

/**
 * The counting upsert, with its parameters numbered from $`o`+1 ($o+1 key, $o+2 at, $o+3 window
 * start, $o+4 first block or null, $o+5 maxFailures, $o+6 baseSeconds, $o+7 maxSeconds); `guard`
 * makes the INSERT conditional (an INSERT … SELECT … WHERE).
 */
function upsert(o: number, guard = ''): string {
  const p = (n: number) => `$${o + n}`;
  const [key, at, since, first, max, base, cap] = [1, 2, 3, 4, 5, 6, 7].map(p);
  const n = `(CASE WHEN t.last_failure <= ${since}::timestamptz THEN 1 ELSE t.failures + 1 END)`;
  return `INSERT INTO login_throttles AS t (key, failures, first_failure, last_failure, blocked_until)
    SELECT ${key}::text, 1, ${at}::timestamptz, ${at}::timestamptz, ${first}::timestamptz ${guard}
    ON CONFLICT (key) DO UPDATE SET
      failures = ${n},
      first_failure = CASE WHEN t.last_failure <= ${since}::timestamptz THEN ${at}::timestamptz ELSE t.first_failure END,
      last_failure = ${at}::timestamptz,
      blocked_until = CASE WHEN ${n} >= ${max}::int
        THEN ${at}::timestamptz + make_interval(secs => LEAST(${cap}::float8, ${base}::float8 * power(2::float8, LEAST(${n} - ${max}::int, 40))))
        ELSE NULL END
    WHERE t.blocked_until IS NULL OR t.blocked_until <= ${at}::timestamptz
    RETURNING t.key, t.failures, t.last_failure AS "lastFailure", t.blocked_until AS "blockedUntil"`;
}

const TRY_PAIR = `WITH first AS (${upsert(0)}), second AS (${upsert(7, 'WHERE EXISTS (SELECT 1 FROM first)')})
  SELECT 1 AS slot, * FROM first UNION ALL SELECT 2 AS slot, * FROM second`;

// Every password login runs these, so they are prepared statements (Database.sql), not ORM
// calls. Parameters: $1 key, $2 at, $3 window start, $4 first block (or null), $5 maxFailures,
// $6 baseSeconds, $7 maxSeconds. n = the count after this attempt; column expressions in DO
// UPDATE see the old row, hence the repetition. A blocked key matches no row in the WHERE and
// is left untouched.
const TRY_ATTEMPT = `
  INSERT INTO login_throttles AS t (key, failures, first_failure, last_failure, blocked_until)
  VALUES ($1, 1, $2::timestamptz, $2::timestamptz, $4::timestamptz)
  ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.last_failure <= $3::timestamptz THEN 1 ELSE t.failures + 1 END,
    first_failure = CASE WHEN t.last_failure <= $3::timestamptz THEN $2::timestamptz ELSE t.first_failure END,
    last_failure = $2::timestamptz,
    blocked_until = CASE
      WHEN (CASE WHEN t.last_failure <= $3::timestamptz THEN 1 ELSE t.failures + 1 END) >= $5::int
      THEN $2::timestamptz + make_interval(secs => LEAST($7::float8,
             $6::float8 * power(2::float8, LEAST((CASE WHEN t.last_failure <= $3::timestamptz THEN 1 ELSE t.failures + 1 END) - $5::int, 40))))
      ELSE NULL END
  WHERE t.blocked_until IS NULL OR t.blocked_until <= $2::timestamptz
  RETURNING t.key, t.failures, t.last_failure AS "lastFailure", t.blocked_until AS "blockedUntil"`;

/** $1 key, $2 maxFailures, $3 baseSeconds, $4 maxSeconds. */
const RELEASE_SET = `
    failures = GREATEST(failures - 1, 0),
    blocked_until = CASE
      WHEN failures - 1 >= $2::int
      THEN last_failure + make_interval(secs => LEAST($4::float8,
             $3::float8 * power(2::float8, LEAST(failures - 1 - $2::int, 40))))
      ELSE NULL END`;

export class PrismaLoginThrottleRepository implements LoginThrottleRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async tryAttempt(key: string, at: Date, policy: LoginBackoffPolicy): Promise<LoginAttemptSlot> {
    const since = new Date(at.getTime() - policy.windowSeconds * 1000);
    const { maxFailures, baseSeconds, maxSeconds } = policy;
    const firstBlock = maxFailures <= 1 ? new Date(at.getTime() + Math.min(maxSeconds, baseSeconds) * 1000) : null;
    const rows = await this.sql.query<Row>('login_throttle_try', TRY_ATTEMPT, [key, at, since, firstBlock, maxFailures, baseSeconds, maxSeconds]);
    const row = rows[0];
    if (row) return { allowed: true, state: { key: row.key, failures: row.failures, lastFailure: row.lastFailure, blockedUntil: row.blockedUntil } };
    const current = await this.sql.query<{ blockedUntil: Date | null }>('login_throttle_blocked', 'SELECT blocked_until AS "blockedUntil" FROM login_throttles WHERE key = $1', [key]);
    return { allowed: false, blockedUntil: current[0]?.blockedUntil ?? at };
  }

  async tryAttemptPair(
    first: { key: string; policy: LoginBackoffPolicy },
    second: { key: string; policy: LoginBackoffPolicy },
    at: Date,
  ): Promise<{ first: LoginAttemptSlot; second: LoginAttemptSlot | null }> {
    const rows = await this.sql.query<Row & { slot: number }>('login_throttle_try_pair', TRY_PAIR, [...this.params(first.key, at, first.policy), ...this.params(second.key, at, second.policy)]);
    const slot = async (n: number, key: string): Promise<LoginAttemptSlot> => {
      const row = rows.find((r) => r.slot === n);
      return row ? { allowed: true, state: { key: row.key, failures: row.failures, lastFailure: row.lastFailure, blockedUntil: row.blockedUntil } } : { allowed: false, blockedUntil: await this.blockedUntil(key, at) };
    };
    const a = await slot(1, first.key);
    return { first: a, second: a.allowed ? await slot(2, second.key) : null };
  }

  private params(key: string, at: Date, policy: LoginBackoffPolicy): unknown[] {
    const since = new Date(at.getTime() - policy.windowSeconds * 1000);
    const { maxFailures, baseSeconds, maxSeconds } = policy;
    const firstBlock = maxFailures <= 1 ? new Date(at.getTime() + Math.min(maxSeconds, baseSeconds) * 1000) : null;
    return [key, at, since, firstBlock, maxFailures, baseSeconds, maxSeconds];
  }

  private async blockedUntil(key: string, at: Date): Promise<Date> {
    const rows = await this.sql.query<{ blockedUntil: Date | null }>('login_throttle_blocked', 'SELECT blocked_until AS "blockedUntil" FROM login_throttles WHERE key = $1', [key]);
    return rows[0]?.blockedUntil ?? at;
  }

  async release(key: string, policy: LoginBackoffPolicy): Promise<void> {
    const { maxFailures, baseSeconds, maxSeconds } = policy;
    await this.sql.query('login_throttle_release', `UPDATE login_throttles SET ${RELEASE_SET} WHERE key = $1`, [key, maxFailures, baseSeconds, maxSeconds]);
  }

  async reset(key: string): Promise<void> {
    await this.sql.query('login_throttle_reset', 'DELETE FROM login_throttles WHERE key = $1', [key]);
  }

  async settleSuccess(resetKey: string, releaseKey: string, policy: LoginBackoffPolicy): Promise<void> {
    // One round trip for reset + release: the login path's CPU belongs to argon2id.
    const { maxFailures, baseSeconds, maxSeconds } = policy;
    await this.sql.query(
      'login_throttle_settle',
      `WITH gone AS (DELETE FROM login_throttles WHERE key = $5)
       UPDATE login_throttles SET ${RELEASE_SET} WHERE key = $1`,
      [releaseKey, maxFailures, baseSeconds, maxSeconds, resetKey],
    );
  }
}
