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
import type {
  LoginAttemptSlot,
  LoginBackoffPolicy,
  LoginRepository,
  LoginStart,
  LoginSuccess,
  LoginThrottleKey,
} from '../../accounts/login-storage';
import { namedSql } from '../../db/named-sql';
import { AUDIT_INSERT, auditParams } from './audit';
import { FAMILY_INSERT, familyParams } from './family-insert';
import { normalizeEmail, userColumns, userFromPrefixedRow } from './users';

/**
 * The counting upsert for the key under `{<k>.…}` (throttleParams), at `{at}`; `guard` makes
 * the INSERT conditional (an INSERT … SELECT … WHERE).
 */
function upsert(k: string, guard = ''): string {
  const n = `(CASE WHEN t.last_failure <= {${k}.since}::timestamptz THEN 1 ELSE t.failures + 1 END)`;
  return `INSERT INTO login_throttles AS t (key, failures, first_failure, last_failure, blocked_until)
    SELECT {${k}.key}::text, 1, {at}::timestamptz, {at}::timestamptz, {${k}.firstBlock}::timestamptz ${guard}
    ON CONFLICT (key) DO UPDATE SET
      failures = ${n},
      first_failure = CASE WHEN t.last_failure <= {${k}.since}::timestamptz THEN {at}::timestamptz ELSE t.first_failure END,
      last_failure = {at}::timestamptz,
      blocked_until = CASE WHEN ${n} >= {${k}.maxFailures}::int
        THEN {at}::timestamptz + make_interval(secs => LEAST({${k}.maxSeconds}::float8, {${k}.baseSeconds}::float8 * power(2::float8, LEAST(${n} - {${k}.maxFailures}::int, 40))))
        ELSE NULL END
    WHERE t.blocked_until IS NULL OR t.blocked_until <= {at}::timestamptz
    RETURNING t.key, t.failures, t.last_failure AS "lastFailure", t.blocked_until AS "blockedUntil"`;
}

/** upsert(k)'s values for one key (the window's start and, at maxFailures 1, the first block). */
function throttleParams(
  key: string,
  at: Date,
  policy: LoginBackoffPolicy,
): Record<string, unknown> {
  const { maxFailures, baseSeconds, maxSeconds } = policy;
  return {
    key,
    since: new Date(at.getTime() - policy.windowSeconds * 1000),
    firstBlock:
      maxFailures <= 1 ? new Date(at.getTime() + Math.min(maxSeconds, baseSeconds) * 1000) : null,
    ...releaseParams(policy),
  };
}

/** The SET list taking one counted attempt back, with the key's policy under `{<k>.…}`. */
function releaseSet(k: string): string {
  return `failures = GREATEST(failures - 1, 0),
    blocked_until = CASE
      WHEN failures - 1 >= {${k}.maxFailures}::int
      THEN last_failure + make_interval(secs => LEAST({${k}.maxSeconds}::float8, {${k}.baseSeconds}::float8 * power(2::float8, LEAST(failures - 1 - {${k}.maxFailures}::int, 40))))
      ELSE NULL END`;
}

const releaseParams = ({ maxFailures, baseSeconds, maxSeconds }: LoginBackoffPolicy) => ({
  maxFailures,
  baseSeconds,
  maxSeconds,
});

const slotColumns = (alias: string) =>
  `${alias}.key AS "${alias}_key", ${alias}.failures AS "${alias}_failures", ${alias}."lastFailure" AS "${alias}_lastFailure", ${alias}."blockedUntil" AS "${alias}_blockedUntil"`;

/**
 * begin(): the account's attempt (`{account.…}`), the IP's (`{ip.…}`) only when the account's
 * was counted, and the account (`{email}`, normalised) only when both were: one row, each part
 * NULL when it did not happen. The user's join is by the unique email index.
 *
 * Its commit waits for the WAL flush like every other, so a counted attempt survives a
 * database crash.
 */
const BEGIN =
  namedSql(`WITH account AS (${upsert('account')}), ip AS (${upsert('ip', 'WHERE EXISTS (SELECT 1 FROM account)')})
  SELECT ${slotColumns('account')}, ${slotColumns('ip')}, ${userColumns('u', 'user_')}
  FROM (SELECT 1) AS one
  LEFT JOIN account ON true
  LEFT JOIN ip ON true
  LEFT JOIN users u ON u.email = {email} AND ip.key IS NOT NULL`);

/** count(): one key's attempt (`{k.…}`); no row when the key is blocked. */
const COUNT = namedSql(`WITH k AS (${upsert('k')}) SELECT ${slotColumns('k')} FROM k`);

const RELEASE = namedSql(`UPDATE login_throttles SET ${releaseSet('ip')} WHERE key = {ip.key}`);

/**
 * succeed(): `{resetKey}` forgotten, the IP's attempt taken back (`{ip.…}`), the user's
 * (`{userId}`) last login at `{at}`, the audit event (`{audit.…}`, audit.ts) and, with a
 * family, the family the login opens (`{family.…}`, `{first.…}`, family-insert.ts). All
 * data-modifying CTEs of one statement: all or nothing.
 */
function succeedSql(withFamily: boolean): string {
  // The account's counter row is locked before the IP's, as in begin() (whose IP upsert waits
  // for the account's): released reads forgotten, so forgotten runs first. In any other order
  // two concurrent logins of one account from one IP can deadlock.
  return `WITH forgotten AS (DELETE FROM login_throttles WHERE key = {resetKey} RETURNING 1),
    released AS (UPDATE login_throttles SET ${releaseSet('ip')}
      WHERE key = {ip.key} AND (SELECT count(*) FROM forgotten) >= 0),
    seen AS (UPDATE users SET last_login_at = {at}::timestamptz, failed_login_count = 0, updated_at = now() WHERE id = {userId}::uuid),
    audited AS (${AUDIT_INSERT})${withFamily ? `, ${FAMILY_INSERT}` : ''}
    SELECT 1 AS done`;
}
const SUCCEED = namedSql(succeedSql(false));
const SUCCEED_WITH_FAMILY = namedSql(succeedSql(true));

type BeginRow = Record<string, unknown>;

function slot(row: BeginRow, alias: string): LoginAttemptSlot | undefined {
  if (row[`${alias}_key`] == null) return undefined;
  return {
    allowed: true,
    state: {
      key: row[`${alias}_key`] as string,
      failures: row[`${alias}_failures`] as number,
      lastFailure: row[`${alias}_lastFailure`] as Date,
      blockedUntil: row[`${alias}_blockedUntil`] as Date | null,
    },
  };
}

export class PrismaLoginRepository implements LoginRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async begin(
    email: string,
    account: LoginThrottleKey,
    ip: LoginThrottleKey,
    at: Date,
  ): Promise<LoginStart> {
    // PostgreSQL text cannot hold NUL: no account has such an email.
    const lookup = email.includes('\0') ? null : normalizeEmail(email);
    const params = {
      at,
      account: throttleParams(account.key, at, account.policy),
      ip: throttleParams(ip.key, at, ip.policy),
      email: lookup,
    };
    const rows = await this.sql.query<BeginRow>('login_begin', BEGIN.text, BEGIN.values(params));
    const row = rows[0]!;
    const accountSlot = slot(row, 'account') ?? {
      allowed: false,
      blockedUntil: await this.blockedUntil(account.key, at),
    };
    if (!accountSlot.allowed) return { account: accountSlot, ip: null, user: null };
    const ipSlot = slot(row, 'ip') ?? {
      allowed: false,
      blockedUntil: await this.blockedUntil(ip.key, at),
    };
    return { account: accountSlot, ip: ipSlot, user: userFromPrefixedRow(row, 'user_') };
  }

  private async blockedUntil(key: string, at: Date): Promise<Date> {
    const rows = await this.sql.query<{ blockedUntil: Date | null }>(
      'login_throttle_blocked',
      'SELECT blocked_until AS "blockedUntil" FROM login_throttles WHERE key = $1',
      [key],
    );
    return rows[0]?.blockedUntil ?? at;
  }

  async count(key: LoginThrottleKey, at: Date): Promise<LoginAttemptSlot> {
    const params = { at, k: throttleParams(key.key, at, key.policy) };
    const rows = await this.sql.query<BeginRow>(
      'login_throttle_count',
      COUNT.text,
      COUNT.values(params),
    );
    return (
      (rows[0] && slot(rows[0], 'k')) ?? {
        allowed: false,
        blockedUntil: await this.blockedUntil(key.key, at),
      }
    );
  }

  async release(key: LoginThrottleKey): Promise<void> {
    await this.sql.query(
      'login_throttle_release',
      RELEASE.text,
      RELEASE.values({ ip: { key: key.key, ...releaseParams(key.policy) } }),
    );
  }

  async succeed(s: LoginSuccess): Promise<void> {
    const params = {
      resetKey: s.resetKey,
      ip: { key: s.release.key, ...releaseParams(s.release.policy) },
      userId: s.userId,
      at: s.at,
      ...auditParams(s.audit),
    };
    if (!s.openFamily) {
      await this.sql.query('login_succeed', SUCCEED.text, SUCCEED.values(params));
      return;
    }
    const family = familyParams(
      randomUUID(),
      randomUUID(),
      { ...s.openFamily.family, userId: s.userId },
      s.openFamily.first,
    );
    await this.sql.query(
      'login_succeed_with_family',
      SUCCEED_WITH_FAMILY.text,
      SUCCEED_WITH_FAMILY.values({ ...params, ...family }),
    );
  }
}
