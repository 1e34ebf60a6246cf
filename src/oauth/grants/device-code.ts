/**
 * Device authorization grant (RFC 8628 §3.4–§3.5): the device polls with its device_code until
 * the user has decided on /device. Each poll is recorded first, in one statement that also
 * applies the polling interval (device-storage.ts `poll`), and then answered:
 * - a device_code that is not this client's, or is already redeemed: invalid_grant;
 * - expired: expired_token; denied by the user: access_denied;
 * - still pending: slow_down when it came sooner than the interval (which grows by 5 s for
 *   this and every later poll, remembered per device_code), else authorization_pending;
 * - approved: tokens as the code flow issues them (access token, ID token with `openid`,
 *   refresh token when the client has the refresh_token grant), carrying the approving
 *   browser session's auth_time, amr and sid; the request is redeemed with one conditional
 *   UPDATE inside issuing, so of two concurrent polls exactly one gets tokens.
 */
import { z } from 'zod';
import type { Services } from '../../services';
import { sha256 } from '../../shared/crypto';
import { DEVICE_CODE_GRANT } from '../device/authorization';
import type { DeviceAuthorizationRecord } from '../device/device-storage';
import {
  AuthorizationPending,
  DeviceAccessDenied,
  ExpiredToken,
  InvalidGrant,
  SlowDown,
} from '../errors';
import { parseResources, resourceParam, tokenResources } from '../resources';
import { splitScope } from '../scope';
import { issue, type Decision, type IssueDeps } from './issue';
import type { GrantContext, GrantModule, TokenResponse } from './types';

type DeviceDeps = IssueDeps &
  Pick<Services, 'deviceAuthorizations' | 'users' | 'refreshTokens' | 'backchannelLogout'>;
type Ctx = GrantContext<DeviceDeps>;

/** RFC 8628 §3.5: slow_down adds 5 seconds to the interval. */
const SLOW_DOWN_SECONDS = 5;
const INVALID = 'The device_code is invalid or already used';

const params = z.object({
  device_code: z
    .string({ error: 'device_code is required' })
    .min(1, 'device_code is required')
    .max(512, 'device_code is too long'),
  resource: resourceParam,
});
type Params = z.infer<typeof params>;

async function deviceCodeHandler(p: Params, ctx: Ctx): Promise<TokenResponse> {
  return issue(ctx, await validateDeviceCode(p, ctx));
}

async function validateDeviceCode(p: Params, ctx: Ctx): Promise<Decision> {
  const { services } = ctx;
  const now = services.clock.now();
  const polled = await services.deviceAuthorizations.poll(
    sha256(p.device_code),
    ctx.client.id,
    now,
    SLOW_DOWN_SECONDS,
  );
  // Another client's device_code gets the same answer as an unknown one.
  if (!polled) throw new InvalidGrant(INVALID);
  const { record, tooFast } = polled;
  if (record.status === 'redeemed')
    throw new InvalidGrant(INVALID, { cause: 'device_code redeemed already' });
  if (record.expiresAt.getTime() <= now.getTime())
    throw new ExpiredToken('The device_code has expired; start a new device authorization');
  if (record.status === 'denied') throw new DeviceAccessDenied('The user denied the request');
  if (record.status === 'pending') {
    if (tooFast)
      throw new SlowDown(`Polling too fast: wait ${record.interval} seconds between requests`);
    throw new AuthorizationPending('The user has not yet approved the request');
  }
  return approved(p, ctx, record, now);
}

async function approved(
  p: Params,
  ctx: Ctx,
  record: DeviceAuthorizationRecord,
  now: Date,
): Promise<Decision> {
  const { services } = ctx;
  const decision = record.decision;
  if (!decision) throw new Error('approved device authorization without a decision');
  const audience = tokenResources(
    parseResources(p.resource),
    record.resources,
    ctx.client.audiences,
  );
  const user = await services.users.findById(decision.userId);
  if (!user || user.disabled)
    throw new InvalidGrant(INVALID, { cause: 'user missing or disabled' });
  return {
    kind: 'login',
    at: now,
    grant: {
      user,
      scopes: splitScope(record.scope),
      authTime: decision.authTime,
      amr: decision.amr,
      sessionId: decision.sessionId,
      resources: record.resources,
    },
    audience,
    refresh: ctx.client.grantTypes.includes('refresh_token'),
    store: async ({ opening }) => {
      // Single use: exactly one concurrent poll redeems it (RFC 8628 §3.5 "device_code").
      if (!(await services.deviceAuthorizations.redeem(record.id, now)))
        throw new InvalidGrant(INVALID, { cause: 'device_code redeemed concurrently' });
      // Back-Channel Logout 1.0 §2.1: the device now holds tokens of the approving session.
      if (decision.sessionId)
        await services.backchannelLogout.recordTokensInSession(decision.sessionId, ctx.client);
      if (opening)
        await services.refreshTokens.createFamily(
          { ...opening.family, userId: decision.userId },
          opening.first,
        );
    },
  };
}

export const deviceCodeGrant = {
  grantType: DEVICE_CODE_GRANT,
  params,
  handle: deviceCodeHandler,
} satisfies GrantModule<typeof params, DeviceDeps>;
