/**
 * POST /revoke (RFC 7009). Pipeline (routes.ts): no-store → form parameters → client
 * authentication → this handler. Answers 200 with an empty body whenever the client is
 * authenticated and the request well-formed, whether or not a token was revoked (§2.2).
 *
 * `logout_all=true` (Tessera extension) also ends every session of the token's user; see
 * src/oauth/revocation.ts.
 */
import type { Middleware } from 'koa';
import { z } from 'zod';
import { validateParams } from '../../oauth/params';
import { revokeToken, type RevocationDeps } from '../../oauth/revocation';
import type { AppState } from '../types';

const params = z.object({
  token: z.string().min(1).max(8192),
  // §2.1: optional; an unknown value is ignored (the server searches every type anyway).
  token_type_hint: z.string().max(100).optional(),
  logout_all: z.enum(['true', 'false']).optional(),
});

export function revoke(deps: RevocationDeps): Middleware<AppState> {
  return async (ctx) => {
    const client = ctx.state.client!;
    const valid = validateParams(params, ctx.state.params ?? {});
    const outcome = await revokeToken(
      valid.token,
      { logoutAll: valid.logout_all === 'true' },
      client,
      deps,
      { requestId: ctx.state.requestId, ip: ctx.ip },
    );
    ctx.state.log.debug(
      { revoked: outcome.revoked, sessionsEnded: outcome.sessionsEnded },
      'revocation',
    );
    ctx.status = 200;
    ctx.body = '';
  };
}
