/**
 * Throttles of the self-service forms (sign-up, forgot password, resend verification, reset),
 * on the same PostgreSQL counters as the login (login_throttles, shared by every instance):
 * per client IP and per email address. Every request counts, whether the account exists or not,
 * so the 429 says nothing about which accounts exist.
 */
import type { LoginBackoffPolicy, LoginRepository } from './login-storage';

export class SelfServiceThrottled extends Error {
  override name = 'SelfServiceThrottled';
  constructor(readonly retryAfterSeconds: number) {
    super('Too many requests; try again later');
  }
}

/** A few mails per address and hour are enough for a person; more is someone else's doing. */
const PER_ACCOUNT: LoginBackoffPolicy = {
  maxFailures: 5,
  baseSeconds: 60,
  maxSeconds: 3600,
  windowSeconds: 3600,
};
const PER_IP: LoginBackoffPolicy = {
  maxFailures: 30,
  baseSeconds: 60,
  maxSeconds: 3600,
  windowSeconds: 3600,
};

/** Counts one request of `form` from `ip` (and for `email`); throws SelfServiceThrottled when blocked. */
export async function countSelfServiceRequest(
  logins: Pick<LoginRepository, 'count'>,
  form: 'signup' | 'forgot' | 'resend' | 'reset',
  at: Date,
  ip: string,
  email?: string,
): Promise<void> {
  const keys = [{ key: `${form}:ip:${ip}`, policy: PER_IP }];
  if (email)
    keys.push({
      key: `${form}:acct:${email.trim().toLowerCase().replaceAll('\0', '%00')}`,
      policy: PER_ACCOUNT,
    });
  for (const key of keys) {
    const slot = await logins.count(key, at);
    if (!slot.allowed)
      throw new SelfServiceThrottled(
        Math.max(1, Math.ceil((slot.blockedUntil.getTime() - at.getTime()) / 1000)),
      );
  }
}
