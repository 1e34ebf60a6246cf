/**
 * POST /introspect (RFC 7662). Pipeline (routes.ts): no-store → form parameters → client
 * authentication → this handler. Only confidential clients may introspect (§2.1: the
 * endpoint MUST require authorization); what they may see is decided in
 * src/oauth/introspection.ts.
 */
import type { Middleware } from 'koa';
import { z } from 'zod';
import { InvalidClient } from '../../oauth/errors';
import { introspectToken, type IntrospectionDeps } from '../../oauth/introspection';
import { validateParams } from '../../oauth/params';
import type { AppState } from '../types';

const params = z.object({
  token: z.string().min(1).max(8192),
  // §2.1: optional; an unknown value is not an error (the server may ignore the hint).
  token_type_hint: z.string().max(100).optional(),
});

export function introspect(deps: IntrospectionDeps): Middleware<AppState> {
  return async (ctx) => {
    const client = ctx.state.client!;
    // A public client proves nothing about itself, so it cannot be authorised to introspect.
    if (ctx.state.clientAuthMethod === 'none')
      throw new InvalidClient('Introspection requires client credentials');
    const { token } = validateParams(params, ctx.state.params ?? {});
    ctx.type = 'application/json';
    ctx.body = await introspectToken(token, client, deps);
  };
}
