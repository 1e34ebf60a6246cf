/**
 * Client Credentials grant (RFC 6749 §4.4): a confidential client gets an access token for
 * itself — `sub` is its client id (RFC 9068 §2.2), no refresh token (§4.4.3: "A refresh token
 * SHOULD NOT be included") and no ID token (there is no user). User-facing OpenID scopes make
 * no sense here and are refused as invalid_scope; without a scope parameter the client gets
 * all of its other scopes. `resource` (RFC 8707 §2) names which of its registered resources
 * the token is for; without it, the client's default audience.
 */
import { z } from 'zod';
import { OIDC_SCOPES } from '../../tokens/claims';
import { UnauthorizedClient } from '../errors';
import { parseResources, resourceParam, tokenResources } from '../resources';
import { issue, type Decision, type IssueDeps } from './issue';
import { grantScopes } from './scope';
import type { GrantContext, GrantModule, TokenResponse } from './types';

const USER_SCOPES = new Set<string>(OIDC_SCOPES);

const params = z.object({ scope: z.string().optional(), resource: resourceParam });
type Params = z.infer<typeof params>;

async function clientCredentialsHandler(
  p: Params,
  ctx: GrantContext<IssueDeps>,
): Promise<TokenResponse> {
  return issue(ctx, validateClientCredentials(p, ctx));
}

function validateClientCredentials(p: Params, ctx: GrantContext<IssueDeps>): Decision {
  // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
  if (ctx.client.isPublic)
    throw new UnauthorizedClient('Public clients cannot use client_credentials');
  const allowed = ctx.client.scopes.filter((s) => !USER_SCOPES.has(s));
  const scopes = grantScopes(p.scope, allowed);
  const audience = tokenResources(parseResources(p.resource), [], ctx.client.audiences);
  return { kind: 'client', at: ctx.services.clock.now(), scopes, audience };
}

export const clientCredentialsGrant = {
  grantType: 'client_credentials',
  params,
  handle: clientCredentialsHandler,
} satisfies GrantModule<typeof params, IssueDeps>;
