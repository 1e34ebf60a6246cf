/**
 * Password login, shared by the password grant and the browser login page so both apply the
 * same verification and the same brute-force limits.
 *
 * - Unknown account, wrong password and disabled account all fail the same way
 *   (LoginRejected, one generic message), and an unknown account still pays a dummy argon2id
 *   verification, so neither the answer nor its timing says whether an account exists
 *   (RFC 9700 §4.15 / OWASP ASVS 2.2.1 account enumeration).
 * - Brute force (RFC 6749 §10.10, RFC 9700 §2.4): failures are counted per account and per
 *   client IP in PostgreSQL (shared by every instance). Past LOGIN_MAX_FAILURES (account) or
 *   IP_MAX_FAILURES (IP) each further failure blocks that key for an exponentially growing
 *   time, capped at LOGIN_BACKOFF_MAX, and counters are forgotten LOGIN_FAILURE_WINDOW after
 *   the last failure: an attacker can slow a real user down but never lock them out for good.
 *   While blocked, attempts are refused (LoginThrottled) before any password check, so a
 *   blocked key cannot be used to test passwords. Each attempt is counted atomically before
 *   its password is checked (and taken back on success), so a burst of parallel guesses gets
 *   no more tries than a sequence would. Counting unknown accounts too keeps the 429 from
 *   revealing which accounts exist.
 * - Success resets the account counter only: an attacker holding one valid account cannot
 *   clear the counter of the IP it is spraying other accounts from.
 * - A hash made with older argon2 parameters is transparently replaced (compare-and-set, so
 *   it cannot undo a concurrent password change).
 */
import type { Config } from '../config';
import type { AuditLog } from '../observability/audit-log';
import { metrics } from '../observability/metrics';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { OpeningFamily } from '../tokens/refresh-token-storage';
import type { LoginBackoffPolicy, LoginRepository } from './login-storage';
import type { PasswordHasher } from './passwords';
import type { UserRecord, UserRepository } from './user-storage';

export class LoginRejected extends Error {
  override name = 'LoginRejected';
  constructor() {
    super('Invalid email or password');
  }
}

export class LoginThrottled extends Error {
  override name = 'LoginThrottled';
  constructor(readonly retryAfterSeconds: number) {
    super('Too many failed login attempts; try again later');
  }
}

/**
 * The password matched, but the account is a sign-up whose email is not verified yet: it may
 * not sign in (the attempt is not counted as a failure). Only someone who knows the password
 * learns this.
 */
export class EmailNotVerified extends Error {
  override name = 'EmailNotVerified';
  constructor(readonly email: string) {
    super('Email address not verified');
  }
}

export interface LoginAttempt {
  email: string;
  password: string;
  ip: string;
  clientId?: string | null;
  requestId?: string | null;
}

/** What a login needs, and no more (the composition root's Services satisfies it). */
export interface LoginDeps {
  readonly logins: LoginRepository;
  /** Only to replace a hash made with older argon2 parameters. */
  readonly users: Pick<UserRepository, 'updatePasswordHash'>;
  readonly passwords: Pick<PasswordHasher, 'verify' | 'verifyDummy' | 'needsRehash' | 'hash'>;
  readonly audit: Pick<AuditLog, 'record'>;
  readonly clock: Clock;
  readonly config: Pick<
    Config,
    | 'LOGIN_MAX_FAILURES'
    | 'IP_MAX_FAILURES'
    | 'LOGIN_BACKOFF_BASE'
    | 'LOGIN_BACKOFF_MAX'
    | 'LOGIN_FAILURE_WINDOW'
  >;
  readonly log: Logger;
}

/**
 * A password that matched, whose login is not recorded yet: `succeed` records it — the account
 * counter forgotten, the IP's attempt taken back, the last login time, the audit event and,
 * when given, the refresh-token family the login opens (the password grant's), all in ONE
 * statement: nothing of a login is stored unless all of it is. Until then the attempt stays
 * counted as a failure, so a login abandoned in between errs on the side of the limits.
 */
export interface VerifiedPassword {
  user: UserRecord;
  /** When the password matched: the authentication time, and the login's recorded time. */
  at: Date;
  succeed(openFamily?: OpeningFamily): Promise<void>;
}

// NUL cannot be stored in PostgreSQL text (no account has it in its email); spelled out, the
// attempt is still counted.
const accountKey = (email: string) => `acct:${email.trim().toLowerCase().replaceAll('\0', '%00')}`;
const ipKey = (ip: string) => `ip:${ip}`;

function policies(config: LoginDeps['config']): {
  account: LoginBackoffPolicy;
  ip: LoginBackoffPolicy;
} {
  const common = {
    baseSeconds: config.LOGIN_BACKOFF_BASE,
    maxSeconds: config.LOGIN_BACKOFF_MAX,
    windowSeconds: config.LOGIN_FAILURE_WINDOW,
  };
  return {
    account: { ...common, maxFailures: config.LOGIN_MAX_FAILURES },
    ip: { ...common, maxFailures: config.IP_MAX_FAILURES },
  };
}

/**
 * Verifies a password login under the brute-force limits and records it; resolves with the
 * user. A login takes two round trips to the database (LoginRepository), a wrong password two
 * as well (the count, the failure's audit event): the login path's CPU belongs to argon2id.
 */
export async function verifyLogin(services: LoginDeps, attempt: LoginAttempt): Promise<UserRecord> {
  const verified = await checkPassword(services, attempt);
  await verified.succeed();
  return verified.user;
}

/**
 * The first half of verifyLogin: counts the attempt, checks the password and, when it matched,
 * answers with what `succeed` records (VerifiedPassword), so a caller can decide what the
 * login opens from its authentication time and have it stored in the login's own statement.
 */
export async function checkPassword(
  services: LoginDeps,
  attempt: LoginAttempt,
): Promise<VerifiedPassword> {
  const { clock, audit, logins, config } = services;
  const now = clock.now();
  const policy = policies(config);
  const account = { key: accountKey(attempt.email), policy: policy.account };
  const ip = { key: ipKey(attempt.ip), policy: policy.ip };
  const auditBase = {
    clientId: attempt.clientId ?? null,
    ip: attempt.ip,
    requestId: attempt.requestId ?? null,
  };

  // Count the attempt first (as a failure), per account then per IP, and load the account:
  // one statement. A blocked key refuses before any password is checked; the IP is counted
  // only when the account is not blocked, the account loaded only when neither is.
  const start = await logins.begin(attempt.email, account, ip, now);
  const accountSlot = start.account;
  if (!accountSlot.allowed) throw throttled(accountSlot.blockedUntil, now);
  const ipSlot = start.ip!; // counted whenever the account's attempt was
  if (!ipSlot.allowed) {
    await logins.release(account);
    throw throttled(ipSlot.blockedUntil, now);
  }

  const user = start.user;
  const ok = user
    ? await services.passwords.verify(user.passwordHash, attempt.password)
    : await services.passwords.verifyDummy(attempt.password);

  if (!user || !ok || user.disabled) {
    metrics.loginFailures.inc();
    await audit.record({
      ...auditBase,
      type: 'login.failure',
      userId: user?.id ?? null,
      details: {
        reason: !user ? 'unknown_account' : user.disabled && ok ? 'disabled' : 'bad_password',
      },
    });
    for (const [scope, slot] of [
      ['account', accountSlot],
      ['ip', ipSlot],
    ] as const) {
      // The failure that starts (or extends) a block is the lockout worth auditing.
      const until = slot.state.blockedUntil;
      if (until && until > now) {
        metrics.lockouts.inc({ scope });
        await audit.record({
          ...auditBase,
          type: 'login.lockout',
          userId: user?.id ?? null,
          details: { scope, failures: slot.state.failures, blockedUntil: until.toISOString() },
        });
      }
    }
    throw new LoginRejected();
  }

  if (user.verifyBeforeSignIn && !user.emailVerified) {
    await logins.release(account);
    await logins.release(ip);
    throw new EmailNotVerified(user.email);
  }

  const at = clock.now();
  return {
    user,
    at,
    async succeed(openFamily) {
      // One statement: the account counter forgotten, the IP's attempt taken back, the last
      // login time, the audit event and the family the login opens, if any.
      await logins.succeed({
        resetKey: account.key,
        release: ip,
        userId: user.id,
        at,
        audit: { ...auditBase, type: 'login.success', userId: user.id },
        openFamily,
      });
      await rehashIfOutdated(services, user, attempt.password);
    },
  };
}

/** Replaces a hash made with older argon2 parameters (compare-and-set: never undoes a password change). */
async function rehashIfOutdated(
  services: LoginDeps,
  user: UserRecord,
  password: string,
): Promise<void> {
  if (!services.passwords.needsRehash(user.passwordHash)) return;
  try {
    await services.users.updatePasswordHash(
      user.id,
      user.passwordHash,
      await services.passwords.hash(password),
    );
  } catch (err) {
    // The login itself succeeded; the next one retries the rehash.
    services.log.warn(
      { err: { message: (err as Error).message }, userId: user.id },
      'password rehash failed',
    );
  }
}

function throttled(blockedUntil: Date, now: Date): LoginThrottled {
  return new LoginThrottled(
    Math.max(1, Math.ceil((blockedUntil.getTime() - now.getTime()) / 1000)),
  );
}
