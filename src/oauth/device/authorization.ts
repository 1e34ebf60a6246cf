/**
 * The device authorization request (RFC 8628 §3.1–§3.2): an authenticated client that
 * registered the device_code grant asks for a device_code (what the device polls with) and a
 * user_code (what the user types on /device). The device_code is 256 random bits and the
 * user_code 8 letters (user-code.ts); only their hashes are stored (§5.2: a leaked table must
 * not hand out codes).
 */
import { z } from 'zod';
import type { ClientRecord } from '../../clients/client-storage';
import type { Services } from '../../services';
import { randomToken, sha256 } from '../../shared/crypto';
import { UnauthorizedClient } from '../errors';
import { grantScopes } from '../grants/scope';
import { requestedResources, resourceParam } from '../resources';
import { DEVICE_VERIFICATION_PATH } from './metadata';
import { formatUserCode, newUserCode, userCodeHash } from './user-code';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export const deviceAuthorizationParams = z.object({
  scope: z.string().max(2048, 'scope is too long').optional(),
  resource: resourceParam,
});
export type DeviceAuthorizationParams = z.infer<typeof deviceAuthorizationParams>;

/** RFC 8628 §3.2 device authorization response. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

export type DeviceAuthorizationDeps = Pick<
  Services,
  'config' | 'clock' | 'deviceAuthorizations' | 'audit'
>;

/** Draws the codes, stores their hashes with the request, answers with the codes. */
export async function startDeviceAuthorization(
  services: DeviceAuthorizationDeps,
  client: ClientRecord,
  params: DeviceAuthorizationParams,
  request: { ip: string; requestId: string },
): Promise<DeviceAuthorizationResponse> {
  const { config, clock } = services;
  // RFC 8628 §3.2 / RFC 6749 §5.2: the grant is per-client opt-in.
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT))
    throw new UnauthorizedClient('The client is not allowed to use the device authorization grant');
  // RFC 8628 §3.1: scope as at the token endpoint (RFC 6749 §3.3).
  const scopes = grantScopes(params.scope, client.scopes);
  const resources = requestedResources(params.resource, client.audiences);
  const deviceCode = randomToken(32);
  const now = clock.now();
  // A user_code collision (one in 2^34 per live code) just draws another.
  for (let attempt = 0; attempt < 5; attempt++) {
    const userCode = newUserCode();
    const stored = await services.deviceAuthorizations.create({
      deviceCodeHash: sha256(deviceCode),
      userCodeHash: userCodeHash(userCode),
      clientId: client.id,
      scope: scopes.join(' '),
      resources,
      interval: config.DEVICE_CODE_INTERVAL,
      createdAt: now,
      expiresAt: new Date(now.getTime() + config.DEVICE_CODE_TTL * 1000),
    });
    if (!stored) continue;
    await services.audit.record({
      type: 'device.authorization_started',
      clientId: client.id,
      ip: request.ip,
      requestId: request.requestId,
      details: { scope: stored.scope },
    });
    const shown = formatUserCode(userCode);
    const verificationUri = `${config.issuer}${DEVICE_VERIFICATION_PATH}`;
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${shown}`,
      expires_in: config.DEVICE_CODE_TTL,
      interval: config.DEVICE_CODE_INTERVAL,
    };
  }
  throw new Error('could not draw an unused user code');
}
