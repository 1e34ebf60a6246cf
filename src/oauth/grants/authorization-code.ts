/**
 * Authorization code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3): trades a code from
 * /authorize for tokens, checking everything the code was bound to before consuming it:
 * - the code is ours, unexpired, and was issued to the authenticated client (§4.1.3);
 * - `redirect_uri` equals the one in the authorization request (§4.1.3);
 * - PKCE (RFC 7636 §4.6): the verifier hashes to the stored S256 challenge; a verifier
 *   without a challenge is refused too (RFC 9700 §2.1.1, PKCE downgrade).
 * Then it is consumed with one conditional UPDATE: a code is used once. A second use fails
 * with invalid_grant and revokes the refresh-token family (and its access tokens) issued from
 * the first (RFC 6749 §4.1.2, RFC 9700 §4.5).
 */
import { z } from 'zod';
import { verifierMatches } from '../authorization/pkce';
import type { AuthorizationCodeRecord } from '../../persistence/types';
import { sha256 } from '../../shared/crypto';
import { InvalidGrant } from '../errors';
import { issuePrepared, prepareLogin } from './issue';
import { defineGrant, type GrantContext } from './types';

const INVALID = 'The authorization code is invalid, expired or already used';

export const authorizationCodeGrant = defineGrant({
  grantType: 'authorization_code',
  params: z.object({
    code: z.string({ error: 'code is required' }).min(1, 'code is required').max(512, 'code is too long'),
    redirect_uri: z.string({ error: 'redirect_uri is required' }).min(1, 'redirect_uri is required').max(2000, 'redirect_uri is too long'),
    code_verifier: z.string().max(256, 'code_verifier is too long').optional(),
  }),
  async handle(params, ctx) {
    const { services } = ctx;
    const now = services.clock.now();
    const code = await services.authorizationCodes.findByHash(sha256(params.code));
    // Another client's code gets the same answer as an unknown one.
    if (!code || code.clientId !== ctx.client.id) throw new InvalidGrant(INVALID);
    if (code.consumedAt) return replayed(ctx, code);
    if (code.expiresAt.getTime() <= now.getTime()) throw new InvalidGrant(INVALID, { cause: 'code expired' });
    if (params.redirect_uri !== code.redirectUri) throw new InvalidGrant('redirect_uri does not match the authorization request');
    if (code.codeChallenge) {
      if (params.code_verifier === undefined) throw new InvalidGrant('code_verifier is required (PKCE)');
      if (!verifierMatches(params.code_verifier, code.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge');
    } else if (params.code_verifier !== undefined) {
      throw new InvalidGrant('code_verifier sent, but the authorization request had no code_challenge');
    }
    const user = await services.users.findById(code.userId);
    if (!user || user.disabled) throw new InvalidGrant(INVALID, { cause: 'user missing or disabled' });

    // Single use (RFC 6749 §4.1.2): exactly one concurrent redemption wins.
    if (!(await services.authorizationCodes.consume(code.id, now))) return replayed(ctx, code);

    const prepared = prepareLogin(ctx, {
      scopes: code.scope.split(' ').filter(Boolean),
      authTime: code.authTime,
      amr: code.amr,
      nonce: code.nonce ?? undefined,
      sessionId: code.sessionId,
      withRefreshToken: ctx.client.grantTypes.includes('refresh_token'),
    });
    if (prepared.refresh) {
      const { opening } = prepared.refresh;
      const { family } = await services.refreshTokens.createFamily({ ...opening.family, userId: user.id }, opening.first);
      // A replay that raced this redemption has poisoned the code: revoke what we just made.
      if (!(await services.authorizationCodes.attachFamily(code.id, family.id))) {
        await services.refreshTokens.revokeFamily(family.id, 'authorization_code_replayed', now);
        throw new InvalidGrant(INVALID, { cause: 'code replayed during redemption' });
      }
    }
    return issuePrepared(ctx, prepared, user);
  },
});

async function replayed(ctx: GrantContext, code: AuthorizationCodeRecord): Promise<never> {
  const { services } = ctx;
  const familyId = await services.authorizationCodes.markReplayed(code.id);
  if (familyId) await services.refreshTokens.revokeFamily(familyId, 'authorization_code_replayed', services.clock.now());
  await services.audit.record({ type: 'authorization.code_replayed', userId: code.userId, clientId: code.clientId, ip: ctx.ip, requestId: ctx.requestId, details: { familyRevoked: Boolean(familyId) } });
  throw new InvalidGrant(INVALID, { cause: 'authorization code replayed' });
}
