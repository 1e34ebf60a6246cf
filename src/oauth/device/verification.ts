/**
 * The user's side of the device flow (RFC 8628 §3.3): finding the request a typed user_code
 * names, and recording the user's approval or denial.
 *
 * Brute force (§5.1): a user code has only ~34.6 bits, so wrong codes are counted per client
 * IP in login_throttles (key `device:ip:<ip>`, shared by every instance), in the same atomic
 * count-first way as password logins (accounts/login.ts): past DEVICE_USER_CODE_MAX_FAILURES
 * each further wrong code blocks the IP for an exponentially growing time (LOGIN_BACKOFF_BASE
 * … LOGIN_BACKOFF_MAX), forgotten LOGIN_FAILURE_WINDOW after the last one. While blocked, no
 * code is looked up at all. A code that matched takes its attempt back. Input that cannot be
 * any code (wrong length or letters) is refused without counting: it guesses nothing.
 */
import type { LoginThrottleKey } from '../../accounts/login-storage';
import type { BrowserSessionRecord } from '../../sessions/browser-session-storage';
import type { Services } from '../../services';
import type { DeviceAuthorizationRecord } from './device-storage';
import { normalizeUserCode, userCodeHash } from './user-code';

export type VerificationDeps = Pick<
  Services,
  'config' | 'clock' | 'deviceAuthorizations' | 'logins' | 'audit'
>;

/** The typed code names no pending request (or cannot be a code). */
export class UserCodeRejected extends Error {
  override name = 'UserCodeRejected';
  constructor(readonly malformed: boolean) {
    super(malformed ? 'not a user code' : 'unknown or expired user code');
  }
}

/** Too many wrong codes from this IP: try again in `retryAfterSeconds`. */
export class UserCodeThrottled extends Error {
  override name = 'UserCodeThrottled';
  constructor(readonly retryAfterSeconds: number) {
    super('too many wrong user codes');
  }
}

export interface FoundDeviceRequest {
  record: DeviceAuthorizationRecord;
  /** The code, normalised (sealed into the page's state to find the request again). */
  userCode: string;
}

interface Attempt {
  ip: string;
  requestId: string;
}

function throttleKey(config: VerificationDeps['config'], ip: string): LoginThrottleKey {
  return {
    key: `device:ip:${ip}`,
    policy: {
      maxFailures: config.DEVICE_USER_CODE_MAX_FAILURES,
      baseSeconds: config.LOGIN_BACKOFF_BASE,
      maxSeconds: config.LOGIN_BACKOFF_MAX,
      windowSeconds: config.LOGIN_FAILURE_WINDOW,
    },
  };
}

/** The pending request of a code the user typed, under the brute-force limit. */
export async function findByTypedUserCode(
  services: VerificationDeps,
  typed: string,
  attempt: Attempt,
): Promise<FoundDeviceRequest> {
  const userCode = normalizeUserCode(typed);
  if (!userCode) throw new UserCodeRejected(true);
  const now = services.clock.now();
  const key = throttleKey(services.config, attempt.ip);
  const slot = await services.logins.count(key, now);
  if (!slot.allowed)
    throw new UserCodeThrottled(
      Math.max(1, Math.ceil((slot.blockedUntil.getTime() - now.getTime()) / 1000)),
    );
  const record = await services.deviceAuthorizations.findPendingByUserCode(
    userCodeHash(userCode),
    now,
  );
  if (!record) {
    const blocked = slot.state.blockedUntil;
    await services.audit.record({
      type: 'device.user_code_rejected',
      ip: attempt.ip,
      requestId: attempt.requestId,
      details: {
        failures: slot.state.failures,
        ...(blocked && blocked > now ? { blockedUntil: blocked.toISOString() } : {}),
      },
    });
    throw new UserCodeRejected(false);
  }
  await services.logins.release(key);
  return { record, userCode };
}

/** The pending request of a code this server sealed into a page (already checked once). */
export async function findBySealedUserCode(
  services: VerificationDeps,
  userCode: string,
): Promise<DeviceAuthorizationRecord | null> {
  return services.deviceAuthorizations.findPendingByUserCode(
    userCodeHash(userCode),
    services.clock.now(),
  );
}

/**
 * Records the signed-in user's decision (§3.3); false when the request was decided already or
 * expired meanwhile. The session's authentication (auth_time, amr, sid) is what the device's
 * tokens will carry, as a code issued in that session would.
 */
export async function decideDeviceRequest(
  services: VerificationDeps,
  record: DeviceAuthorizationRecord,
  session: BrowserSessionRecord,
  approved: boolean,
  attempt: Attempt,
): Promise<boolean> {
  const decided = await services.deviceAuthorizations.decide(
    record.id,
    approved,
    {
      userId: session.userId,
      sessionId: session.id,
      authTime: session.authTime,
      amr: session.amr,
    },
    services.clock.now(),
  );
  if (decided)
    await services.audit.record({
      type: approved ? 'device.approved' : 'device.denied',
      userId: session.userId,
      clientId: record.clientId,
      ip: attempt.ip,
      requestId: attempt.requestId,
      details: { scope: record.scope },
    });
  return decided;
}
