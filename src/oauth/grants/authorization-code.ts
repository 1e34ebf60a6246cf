/**
 * Authorization code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3): trades a code from
 * /authorize for tokens, checking everything the code was bound to before consuming it:
 * - the code is ours, unexpired, and was issued to the authenticated client (§4.1.3);
 * - `redirect_uri` equals the one in the authorization request (§4.1.3);
 * - PKCE (RFC 7636 §4.6): the verifier hashes to the stored S256 challenge; a verifier
 *   without a challenge is refused too (RFC 9700 §2.1.1, PKCE downgrade);
 * - `resource` (RFC 8707 §2.2), when sent, names resources of the authorization request (or,
 *   when that named none, of the client's registered ones): the access token's `aud` narrows
 *   to them, while the refresh-token family keeps the whole grant.
 * - a code requested with `dpop_jkt` is redeemed only with a DPoP proof by that key
 *   (RFC 9449 §10: the code is bound to the key, so a stolen code is of no use).
 * Then it is consumed with one conditional UPDATE, which also records the access token about
 * to be issued: a code is used once. A second use fails with invalid_grant and revokes what
 * the first use issued (RFC 6749 §4.1.2: the server "SHOULD revoke (when possible) all tokens
 * previously issued based on that authorization code"; RFC 9700 §4.5): the refresh-token
 * family with its access tokens, and the access token by its jti — also when the client has
 * no refresh token.
 */
import { z } from 'zod';
import { verifierMatches } from '../authorization/pkce';
import type { AuthorizationCodeRecord } from '../authorization/code-storage';
import type { Services } from '../../services';
import { sha256 } from '../../shared/crypto';
import { accessTokenDeniedUntil } from '../../tokens/access-token-expiry';
import { proofKeyMismatch } from '../dpop/binding';
import { InvalidGrant } from '../errors';
import { parseResources, resourceParam, tokenResources } from '../resources';
import { splitScope } from '../scope';
import { issue, type Decision, type IssueDeps, type LoginIssue } from './issue';
import type { GrantContext, GrantModule, TokenResponse } from './types';

type CodeDeps = IssueDeps &
  Pick<
    Services,
    | 'authorizationCodes'
    | 'users'
    | 'refreshTokens'
    | 'revokedAccessTokens'
    | 'audit'
    | 'backchannelLogout'
  >;
type Ctx = GrantContext<CodeDeps>;

const INVALID = 'The authorization code is invalid, expired or already used';

const params = z.object({
  code: z
    .string({ error: 'code is required' })
    .min(1, 'code is required')
    .max(512, 'code is too long'),
  redirect_uri: z
    .string({ error: 'redirect_uri is required' })
    .min(1, 'redirect_uri is required')
    .max(2000, 'redirect_uri is too long'),
  code_verifier: z.string().max(256, 'code_verifier is too long').optional(),
  resource: resourceParam,
});
type Params = z.infer<typeof params>;

async function authorizationCodeHandler(p: Params, ctx: Ctx): Promise<TokenResponse> {
  return issue(ctx, await validateAuthorizationCode(p, ctx));
}

async function validateAuthorizationCode(p: Params, ctx: Ctx): Promise<Decision> {
  const { services } = ctx;
  const now = services.clock.now();
  const code = await services.authorizationCodes.findByHash(sha256(p.code));
  // Another client's code gets the same answer as an unknown one.
  if (!code || code.clientId !== ctx.client.id) throw new InvalidGrant(INVALID);
  if (code.consumedAt) return replayed(ctx, code);
  if (code.expiresAt.getTime() <= now.getTime())
    throw new InvalidGrant(INVALID, { cause: 'code expired' });
  if (p.redirect_uri !== code.redirectUri)
    throw new InvalidGrant('redirect_uri does not match the authorization request');
  if (code.codeChallenge) {
    if (p.code_verifier === undefined) throw new InvalidGrant('code_verifier is required (PKCE)');
    if (!verifierMatches(p.code_verifier, code.codeChallenge))
      throw new InvalidGrant('code_verifier does not match the code_challenge');
  } else if (p.code_verifier !== undefined) {
    throw new InvalidGrant(
      'code_verifier sent, but the authorization request had no code_challenge',
    );
  }
  const mismatch = proofKeyMismatch(code.dpopJkt, ctx.dpopJkt);
  if (mismatch)
    throw new InvalidGrant('The DPoP proof key does not match dpop_jkt', { cause: mismatch });
  const audience = tokenResources(parseResources(p.resource), code.resources, ctx.client.audiences);
  const user = await services.users.findById(code.userId);
  if (!user || user.disabled)
    throw new InvalidGrant(INVALID, { cause: 'user missing or disabled' });
  return {
    kind: 'login',
    at: now,
    grant: {
      user,
      scopes: splitScope(code.scope),
      authTime: code.authTime,
      amr: code.amr,
      nonce: code.nonce ?? undefined,
      sessionId: code.sessionId,
      resources: code.resources,
    },
    audience,
    refresh: ctx.client.grantTypes.includes('refresh_token'),
    store: (issued) => redeem(ctx, code, now, issued),
  };
}

/**
 * Single use (RFC 6749 §4.1.2): exactly one concurrent redemption wins, and the code remembers
 * the access token it is about to yield, so that a replay can revoke it; then the family opens.
 */
async function redeem(
  ctx: Ctx,
  code: AuthorizationCodeRecord,
  now: Date,
  { access, opening }: LoginIssue,
): Promise<void> {
  const { services } = ctx;
  if (
    !(await services.authorizationCodes.consume(code.id, now, {
      jti: access.jti,
      expiresAt: access.expiresAt,
    }))
  )
    return replayed(ctx, code);
  // Back-Channel Logout 1.0 §2.1: the client now holds tokens of this browser session.
  if (code.sessionId)
    await services.backchannelLogout.recordTokensInSession(code.sessionId, ctx.client);
  if (!opening) return;
  const { family } = await services.refreshTokens.createFamily(
    { ...opening.family, userId: code.userId },
    opening.first,
  );
  // A replay that raced this redemption has poisoned the code: revoke what we just made.
  if (!(await services.authorizationCodes.attachFamily(code.id, family.id))) {
    await services.refreshTokens.revokeFamily(family.id, 'authorization_code_replayed', now);
    throw new InvalidGrant(INVALID, { cause: 'code replayed during redemption' });
  }
}

async function replayed(ctx: Ctx, code: AuthorizationCodeRecord): Promise<never> {
  const { services } = ctx;
  const now = services.clock.now();
  const { familyId, accessToken } = await services.authorizationCodes.markReplayed(code.id);
  if (familyId)
    await services.refreshTokens.revokeFamily(familyId, 'authorization_code_replayed', now);
  // Without a family only this denies the access token (with one, the family's revocation
  // denied it already and this is a no-op); an expired one needs nothing.
  const deniedUntil = accessToken ? accessTokenDeniedUntil(accessToken.expiresAt) : null;
  const accessTokenRevoked = accessToken !== null && deniedUntil !== null && deniedUntil > now;
  if (accessTokenRevoked)
    await services.revokedAccessTokens.revoke(
      accessToken.jti,
      deniedUntil,
      'authorization_code_replayed',
    );
  await services.audit.record({
    type: 'authorization.code_replayed',
    userId: code.userId,
    clientId: code.clientId,
    ip: ctx.ip,
    requestId: ctx.requestId,
    details: { familyRevoked: Boolean(familyId), accessTokenRevoked },
  });
  throw new InvalidGrant(INVALID, { cause: 'authorization code replayed' });
}

export const authorizationCodeGrant = {
  grantType: 'authorization_code',
  params,
  handle: authorizationCodeHandler,
} satisfies GrantModule<typeof params, CodeDeps>;
