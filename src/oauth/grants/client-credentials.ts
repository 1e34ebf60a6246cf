/**
 * Client Credentials grant (RFC 6749 §4.4): a confidential client gets an access token for
 * itself — `sub` is its client id (RFC 9068 §2.2), no refresh token (§4.4.3: "A refresh token
 * SHOULD NOT be included") and no ID token (there is no user). User-facing OpenID scopes make
 * no sense here and are refused as invalid_scope; without a scope parameter the client gets
 * all of its other scopes.
 */
import { z } from 'zod';
import { planAccessToken, signAccessToken } from '../../tokens/access-token';
import { OIDC_SCOPES } from '../../tokens/claims';
import { UnauthorizedClient } from '../errors';
import { grantScopes } from './scope';
import { defineGrant } from './types';

const USER_SCOPES = new Set<string>(OIDC_SCOPES);

export const clientCredentialsGrant = defineGrant({
  grantType: 'client_credentials',
  params: z.object({ scope: z.string().optional() }),
  async handle(params, ctx) {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if (ctx.client.isPublic) throw new UnauthorizedClient('Public clients cannot use client_credentials');
    const allowed = ctx.client.scopes.filter((s) => !USER_SCOPES.has(s));
    const scopes = grantScopes(params.scope, allowed);
    const { config, clock, keyStore } = ctx.services;
    const planned = planAccessToken({
      issuer: config.issuer,
      client: ctx.client,
      scopes,
      now: clock.epochSeconds(),
      defaultTtlSeconds: config.ACCESS_TOKEN_TTL,
      defaultAlg: config.DEFAULT_SIGNING_ALG,
    });
    return { access_token: await signAccessToken(keyStore, planned), token_type: 'Bearer', expires_in: planned.expiresIn, scope: scopes.join(' ') };
  },
});
