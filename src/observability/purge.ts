/**
 * The purge job: every PURGE_INTERVAL, deletes what no request can need any more, so tables
 * stay small (expired codes, dead refresh families and their tokens, deny-list rows of
 * expired access tokens, ended sessions, stale login counters, old audit events, retired
 * keys). Each batch is its own short transaction holding a PostgreSQL advisory transaction
 * lock taken with pg_try_advisory_xact_lock: when another instance is purging, this one skips
 * the run instead of waiting, so one instance purges at a time and requests never queue
 * behind a long delete.
 */
import type { Services } from '../services';
import { metrics } from './metrics';

const PURGE_LOCK = 7_355_609n;
export const PURGE_BATCH = 1000;
/** Revoked families, ended sessions and consumed codes are kept this long for investigation. */
const KEEP_DEAD_MS = 24 * 3600_000;
/** A retired key's row (public part only) stays this long, so old tokens are reported as "retired". */
export const RETIRED_KEY_KEEP_DAYS = 30;

export interface PurgeReport {
  /** False when another instance held the lock (nothing was done). */
  ran: boolean;
  deleted: Record<string, number>;
}

type Step = { table: string; sql: (now: Date) => { text: string; values: unknown[] } };

/**
 * Each step deletes at most PURGE_BATCH rows chosen by a condition on an indexed column
 * (test/performance-guards/purge-plans.test.ts holds every step to an index).
 */
export function purgeSteps(services: Pick<Services, 'config'>): Step[] {
  const { config } = services;
  const batch = (table: string, where: string) =>
    `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT ${PURGE_BATCH})`;
  return [
    {
      table: 'authorization_codes',
      sql: (now) => ({
        text: batch('authorization_codes', 'expires_at < $1'),
        values: [new Date(now.getTime() - KEEP_DEAD_MS)],
      }),
    },
    // Deleting a family deletes its tokens (ON DELETE CASCADE). Expired and long-revoked
    // families are two steps, each on its own index: an OR of the two would scan the table.
    {
      table: 'refresh_token_families',
      sql: (now) => ({ text: batch('refresh_token_families', 'expires_at < $1'), values: [now] }),
    },
    {
      table: 'refresh_token_families',
      sql: (now) => ({
        text: batch('refresh_token_families', 'revoked_at < $1'),
        values: [new Date(now.getTime() - KEEP_DEAD_MS)],
      }),
    },
    // A retry seal lives only for the retry window (oauth/grants/refresh-token.ts).
    {
      table: 'refresh_retry_seals',
      sql: (now) => ({
        text: batch('refresh_retry_seals', 'created_at < $1'),
        values: [new Date(now.getTime() - config.REFRESH_REUSE_GRACE_SECONDS * 1000)],
      }),
    },
    {
      table: 'refresh_retry_access_tokens',
      sql: (now) => ({
        text: batch('refresh_retry_access_tokens', 'expires_at < $1'),
        values: [now],
      }),
    },
    // A deny-list row is useless once the access token it denies has expired (RFC 7009 §2.2):
    // its expires_at is accessTokenDeniedUntil(exp), from which on the verifier refuses the
    // token as expired by itself (tokens/access-token-expiry.ts), so deleting it revives nothing.
    {
      table: 'revoked_access_tokens',
      sql: (now) => ({ text: batch('revoked_access_tokens', 'expires_at < $1'), values: [now] }),
    },
    {
      table: 'pushed_authorization_requests',
      sql: (now) => ({
        text: batch('pushed_authorization_requests', 'expires_at < $1'),
        values: [now],
      }),
    },
    // An expired device authorization can be neither approved nor redeemed (RFC 8628 §3.5);
    // its decision is in the audit log.
    {
      table: 'device_authorizations',
      sql: (now) => ({
        text: batch('device_authorizations', 'expires_at < $1'),
        values: [now],
      }),
    },
    // A used jti matters only while its JWT could still be accepted (oauth/replay/).
    {
      table: 'used_jtis',
      sql: (now) => ({ text: batch('used_jtis', 'expires_at < $1'), values: [now] }),
    },
    {
      table: 'browser_sessions',
      sql: (now) => ({ text: batch('browser_sessions', 'expires_at < $1'), values: [now] }),
    },
    {
      table: 'browser_sessions',
      sql: (now) => ({
        text: batch('browser_sessions', 'ended_at < $1'),
        values: [new Date(now.getTime() - KEEP_DEAD_MS)],
      }),
    },
    {
      table: 'login_throttles',
      sql: (now) => ({
        text: batch(
          'login_throttles',
          'last_failure < $1 AND (blocked_until IS NULL OR blocked_until < $2)',
        ),
        values: [new Date(now.getTime() - config.LOGIN_FAILURE_WINDOW * 1000), now],
      }),
    },
    {
      table: 'audit_events',
      sql: (now) => ({
        text: batch('audit_events', 'at < $1'),
        values: [new Date(now.getTime() - config.AUDIT_RETENTION_DAYS * 86_400_000)],
      }),
    },
    {
      table: 'signing_keys',
      sql: (now) => ({
        text: batch('signing_keys', `state = 'retired' AND retired_at < $1`),
        values: [new Date(now.getTime() - RETIRED_KEY_KEEP_DAYS * 86_400_000)],
      }),
    },
  ];
}

/** One purge run: every table in batches until nothing is left to delete. */
export async function purgeOnce(
  services: Pick<Services, 'config' | 'db' | 'clock'>,
): Promise<PurgeReport> {
  const prisma = services.db.prisma;
  const now = services.clock.now();
  const deleted: Record<string, number> = {};
  for (const step of purgeSteps(services)) {
    deleted[step.table] ??= 0;
    for (;;) {
      const { text, values } = step.sql(now);
      const count = await prisma.$transaction(async (tx) => {
        const [lock] = await tx.$queryRaw<
          { locked: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(${PURGE_LOCK}) AS locked`;
        if (!lock?.locked) return null;
        return tx.$executeRawUnsafe(text, ...values);
      });
      if (count === null) return { ran: false, deleted };
      deleted[step.table] = (deleted[step.table] ?? 0) + count;
      if (count > 0) metrics.purged.inc({ table: step.table }, count);
      if (count < PURGE_BATCH) break;
    }
  }
  return { ran: true, deleted };
}

/** Runs purgeOnce every PURGE_INTERVAL seconds; failures are logged and retried next time. */
export function startPurgeJob(services: Pick<Services, 'config' | 'db' | 'clock' | 'log'>): {
  stop(): void;
} {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purgeOnce(services)
      .then((report) => {
        const total = Object.values(report.deleted).reduce((a, b) => a + b, 0);
        if (total > 0) services.log.info({ deleted: report.deleted }, 'purged expired rows');
      })
      .catch((err: unknown) =>
        services.log.warn({ err: { message: (err as Error).message } }, 'purge failed; will retry'),
      )
      .finally(() => (running = false));
  }, services.config.PURGE_INTERVAL * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
