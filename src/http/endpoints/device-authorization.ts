/**
 * POST /device/authorization (RFC 8628 §3.1). Pipeline (routes.ts): no-store → form
 * parameters (RFC 8707 `resource` may repeat) → client authentication, as at the token
 * endpoint (a public client by client_id alone, §3.1) → this handler; the protocol is in
 * oauth/device/authorization.ts.
 */
import type { Middleware } from 'koa';
import {
  deviceAuthorizationParams,
  startDeviceAuthorization,
  type DeviceAuthorizationDeps,
} from '../../oauth/device/authorization';
import { validateParams } from '../../oauth/params';
import type { AppState } from '../types';

export function deviceAuthorization(deps: DeviceAuthorizationDeps): Middleware<AppState> {
  return async (ctx) => {
    const valid = validateParams(
      deviceAuthorizationParams,
      ctx.state.params ?? {},
      ctx.state.paramLists,
    );
    ctx.body = await startDeviceAuthorization(deps, ctx.state.client!, valid, {
      ip: ctx.ip,
      requestId: ctx.state.requestId,
    });
  };
}
