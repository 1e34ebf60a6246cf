/**
 * A password login's database work: failed-login counters in PostgreSQL (so every instance
 * shares them), the account, and a successful login's bookkeeping — one statement before the
 * password is checked and one after it matched.
 *
 * An attempt is counted with one atomic upsert (INSERT … ON CONFLICT DO UPDATE … WHERE not
 * blocked) before the password is checked, so concurrent guesses can neither be lost to a
 * read-then-write race nor all pass a check made before any of them was recorded. The counter
 * restarts when its previous failure is older than the window; once it reaches `maxFailures`
 * the key is blocked for base·2^(n−max) seconds, capped at `maxSeconds` — a delay that grows,
 * never a permanent lock.
 */
import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../../db/database';
import type { LoginAttemptSlot, LoginBackoffPolicy, LoginRepository, LoginStart, LoginSuccess, LoginThrottleKey } from '../../accounts/login-storage';
import { auditInsert, auditValues } from './audit';
import { familyInserts, familyValues } from './refresh-tokens';
import { normalizeEmail, userColumns, userFromPrefixedRow } from './users';

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

/** Parameters of upsert(o) for one key. */
function upsertValues(key: string, at: Date, policy: LoginBackoffPolicy): unknown[] {
  const since = new Date(at.getTime() - policy.windowSeconds * 1000);
  const { maxFailures, baseSeconds, maxSeconds } = policy;
  const firstBlock = maxFailures <= 1 ? new Date(at.getTime() + Math.min(maxSeconds, baseSeconds) * 1000) : null;
  return [key, at, since, firstBlock, maxFailures, baseSeconds, maxSeconds];
}

/** The SET list taking one counted attempt back; $`o`+1 maxFailures, $`o`+2 baseSeconds, $`o`+3 maxSeconds. */
function releaseSet(o: number): string {
  const [max, base, cap] = [1, 2, 3].map((n) => `$${o + n}`);
  return `failures = GREATEST(failures - 1, 0),
    blocked_until = CASE
      WHEN failures - 1 >= ${max}::int
      THEN last_failure + make_interval(secs => LEAST(${cap}::float8, ${base}::float8 * power(2::float8, LEAST(failures - 1 - ${max}::int, 40))))
      ELSE NULL END`;
}

const releaseValues = (policy: LoginBackoffPolicy): unknown[] => [policy.maxFailures, policy.baseSeconds, policy.maxSeconds];

const slotColumns = (alias: string) => `${alias}.key AS "${alias}_key", ${alias}.failures AS "${alias}_failures", ${alias}."lastFailure" AS "${alias}_lastFailure", ${alias}."blockedUntil" AS "${alias}_blockedUntil"`;

/**
 * begin(): the account's attempt ($1–$7), the IP's ($8–$14) only when the account's was
 * counted, and the account ($15, its normalised email) only when both were: one row, each part
 * NULL when it did not happen. The user's join is by the unique email index.
 *
 * Its commit does not wait for the WAL flush (synchronous_commit off for this transaction
 * only). What needs the count is the next attempt, and it sees the committed row either way:
 * atomicity and visibility are the same. Durability comes from the statement that closes a
 * counted attempt — succeed(), the failure's audit event, or release() — which commits
 * synchronously, and a WAL flush covers every record before it (the WAL writer flushes within
 * wal_writer_delay anyway). Only a database crash between the two can forget the count, and
 * then the attempt got no answer either. The flush it saves was about an eighth of
 * PostgreSQL's CPU per login (`npm run bench`, docs/performance.md).
 */
const BEGIN = `WITH account AS (${upsert(0)}), ip AS (${upsert(7, 'WHERE EXISTS (SELECT 1 FROM account)')})
  SELECT ${slotColumns('account')}, ${slotColumns('ip')}, ${userColumns('u', 'user_')}
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS one
  LEFT JOIN account ON true
  LEFT JOIN ip ON true
  LEFT JOIN users u ON u.email = $15 AND ip.key IS NOT NULL`;

/**
 * succeed(): $1 the account key (forgotten), $2 the IP key (its attempt taken back, $3–$5 its
 * policy), $6 the user, $7 the time, $8–$13 the audit event; with a family, $14–$27 (see
 * familyInserts). All data-modifying CTEs of one statement: all or nothing.
 */
function succeedSql(withFamily: boolean): string {
  return `WITH forgotten AS (DELETE FROM login_throttles WHERE key = $1),
    released AS (UPDATE login_throttles SET ${releaseSet(2)} WHERE key = $2),
    seen AS (UPDATE users SET last_login_at = $7::timestamptz, failed_login_count = 0, updated_at = now() WHERE id = $6::uuid),
    audited AS (${auditInsert(7)})${withFamily ? `, ${familyInserts(13)}` : ''}
    SELECT 1 AS done`;
}
const SUCCEED = succeedSql(false);
const SUCCEED_WITH_FAMILY = succeedSql(true);

type BeginRow = Record<string, unknown>;

function slot(row: BeginRow, alias: string): LoginAttemptSlot | undefined {
  if (row[`${alias}_key`] == null) return undefined;
  return {
    allowed: true,
    state: { key: row[`${alias}_key`] as string, failures: row[`${alias}_failures`] as number, lastFailure: row[`${alias}_lastFailure`] as Date, blockedUntil: row[`${alias}_blockedUntil`] as Date | null },
  };
}

export class PrismaLoginRepository implements LoginRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async begin(email: string, account: LoginThrottleKey, ip: LoginThrottleKey, at: Date): Promise<LoginStart> {
    // PostgreSQL text cannot hold NUL: no account has such an email.
    const lookup = email.includes('\0') ? null : normalizeEmail(email);
    const rows = await this.sql.query<BeginRow>('login_begin', BEGIN, [...upsertValues(account.key, at, account.policy), ...upsertValues(ip.key, at, ip.policy), lookup]);
    const row = rows[0]!;
    const accountSlot = slot(row, 'account') ?? { allowed: false, blockedUntil: await this.blockedUntil(account.key, at) };
    if (!accountSlot.allowed) return { account: accountSlot, ip: null, user: null };
    const ipSlot = slot(row, 'ip') ?? { allowed: false, blockedUntil: await this.blockedUntil(ip.key, at) };
    return { account: accountSlot, ip: ipSlot, user: userFromPrefixedRow(row, 'user_') };
  }

  private async blockedUntil(key: string, at: Date): Promise<Date> {
    const rows = await this.sql.query<{ blockedUntil: Date | null }>('login_throttle_blocked', 'SELECT blocked_until AS "blockedUntil" FROM login_throttles WHERE key = $1', [key]);
    return rows[0]?.blockedUntil ?? at;
  }

  async release(key: LoginThrottleKey): Promise<void> {
    await this.sql.query('login_throttle_release', `UPDATE login_throttles SET ${releaseSet(1)} WHERE key = $1`, [key.key, ...releaseValues(key.policy)]);
  }

  async succeed(s: LoginSuccess): Promise<void> {
    const values = [s.resetKey, s.release.key, ...releaseValues(s.release.policy), s.userId, s.at, ...auditValues(s.audit)];
    if (!s.openFamily) {
      await this.sql.query('login_succeed', SUCCEED, values);
      return;
    }
    const family = familyValues(randomUUID(), randomUUID(), { ...s.openFamily.family, userId: s.userId }, s.openFamily.first);
    await this.sql.query('login_succeed_with_family', SUCCEED_WITH_FAMILY, [...values, ...family]);
  }
}
