/**
 * A password login's storage (accounts/login.ts uses it): the failed-login counters, their
 * backoff policy, and the two statements of a login attempt.
 */
import type { AuditEventInput } from '../observability/audit-log';
import type { OpeningFamily } from '../tokens/refresh-token-storage';
import type { UserRecord } from './user-storage';

/** Failed-login counters shared by every instance (login_throttles), keyed `acct:<email>` / `ip:<ip>`. */
export interface LoginThrottleState {
  key: string;
  failures: number;
  lastFailure: Date;
  blockedUntil: Date | null;
}

export interface LoginBackoffPolicy {
  /** Failures at which backoff starts. */
  maxFailures: number;
  baseSeconds: number;
  maxSeconds: number;
  /** A counter whose last failure is older than this starts again from zero. */
  windowSeconds: number;
}

export type LoginAttemptSlot =
  { allowed: true; state: LoginThrottleState } | { allowed: false; blockedUntil: Date };

export interface LoginThrottleKey {
  key: string;
  policy: LoginBackoffPolicy;
}

/** What a login attempt starts with (LoginRepository.begin). */
export interface LoginStart {
  account: LoginAttemptSlot;
  /** Null when the account key was blocked (the IP is then not counted). */
  ip: LoginAttemptSlot | null;
  /** The account, loaded only when neither key is blocked. */
  user: UserRecord | null;
}

/** A verified login's bookkeeping (LoginRepository.succeed). */
export interface LoginSuccess {
  /** The account key, forgotten. */
  resetKey: string;
  /** The IP key, whose attempt (counted by begin) is taken back. */
  release: LoginThrottleKey;
  userId: string;
  at: Date;
  audit: AuditEventInput;
  /** A refresh-token family the login opens, written in the same statement. */
  openFamily?: OpeningFamily | undefined;
}

/**
 * A password login's database work, in as few round trips as it can be (the login path's CPU
 * belongs to argon2id): one statement before the password is checked, one after it succeeded.
 * Failed-login counters live in login_throttles, shared by every instance.
 */
export interface LoginRepository {
  /**
   * Counts the attempt as a failure *before* the password is checked, per account and then —
   * only when the account is not blocked — per IP (each one atomic upsert, unless that key is
   * blocked: then nothing is counted for it and the block's end is returned), and loads the
   * account by email when neither is blocked; one statement. Counting first means parallel
   * guesses cannot all slip past a check made before any was recorded.
   */
  begin(
    email: string,
    account: LoginThrottleKey,
    ip: LoginThrottleKey,
    at: Date,
  ): Promise<LoginStart>;
  /**
   * Counts one attempt of another kind under `key` (one atomic upsert, as begin does for a
   * login) — e.g. user codes entered on /device; a blocked key counts nothing and returns the
   * block's end.
   */
  count(key: LoginThrottleKey, at: Date): Promise<LoginAttemptSlot>;
  /** Takes back one attempt counted by begin or count (it was not a failure), recomputing the block. */
  release(key: LoginThrottleKey): Promise<void>;
  /**
   * After the password matched, atomically in one statement: the account counter forgotten,
   * the IP's attempt taken back, the user's last login time, the `audit` event and, when
   * given, the refresh-token family the login opens.
   */
  succeed(success: LoginSuccess): Promise<void>;
}
