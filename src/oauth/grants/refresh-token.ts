/**
 * Refresh Token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).
 *
 * Every use returns a new refresh token and retires the presented one. Validation happens
 * first (token known, same client, family alive and within its absolute and idle lifetimes,
 * user enabled, scope not widened); then the repository's rotate() claims the presented token
 * with one conditional UPDATE that must hit exactly one row and inserts the successor in the
 * same transaction, so of many concurrent requests exactly one wins.
 *
 * Reuse: a token that was already rotated is presented again.
 * - More than REFRESH_REUSE_GRACE_SECONDS after its rotation, this is treated as theft
 *   (RFC 9700 §4.14.2: the server cannot tell attacker from client, so it revokes the whole
 *   family — every refresh token of the login and, by jti, the access tokens issued from it)
 *   and an audit event is recorded.
 * - Within the grace window it is treated as a benign race (two tabs, a retried request): the
 *   late request gets invalid_grant and the family lives. We deliberately do NOT hand out the
 *   successor again: that would require keeping the successor's plaintext (we store only
 *   hashes) and would give a second holder a live token. The losers of a concurrent race land
 *   here too — for them rotate() returns null and the answer is the same invalid_grant.
 *
 * All refusals are the same invalid_grant (RFC 6749 §5.2), whatever the reason, so a probe
 * learns nothing about other clients' tokens; a token bound to another client is refused
 * without touching it (RFC 6749 §6: "the refresh token is bound to the client").
 */
import { z } from 'zod';
import { hashOpaqueToken, newOpaqueToken } from '../../tokens/opaque';
import { InvalidGrant } from '../errors';
import { planUserAccessToken, refreshLifetimes, signUserResponse } from './issue';
import { grantScopes } from './scope';
import { defineGrant, type GrantContext } from './types';
import { metrics } from '../../observability/metrics';

const invalid = (cause: string) => new InvalidGrant('The refresh token is invalid, expired or revoked', { cause });

export const refreshTokenGrant = defineGrant({
  grantType: 'refresh_token',
  params: z.object({
    refresh_token: z.string({ error: 'refresh_token is required' }).min(1, 'refresh_token is required').max(512, 'refresh_token is too long'),
    scope: z.string().optional(),
  }),
  async handle(params, ctx) {
    const { services, client } = ctx;
    const now = services.clock.now();
    const presentedHash = hashOpaqueToken(params.refresh_token);
    const found = await services.refreshTokens.findByHash(presentedHash);
    if (!found) throw invalid('unknown refresh token');
    const { token, family } = found;
    if (family.clientId !== client.id) throw invalid('refresh token belongs to another client');
    if (family.revokedAt || token.revokedAt) throw invalid('refresh token family revoked');
    if (token.rotatedAt) {
      await onReuse(ctx, found.family.id, family.userId, token.rotatedAt, now);
      throw invalid('refresh token already rotated');
    }
    if (family.expiresAt <= now) throw invalid('refresh token family expired (absolute lifetime)');
    if (token.idleExpiresAt <= now) throw invalid('refresh token expired (idle lifetime)');

    const user = await services.users.findById(family.userId);
    // A disabled (or deleted) user's logins stop working at once.
    if (!user || user.disabled) throw invalid('user disabled or gone');

    // RFC 6749 §6: the scope may shrink, never grow beyond the original grant (and what the
    // client is still allowed today); omitted means the original grant.
    const clientScopes = new Set(client.scopes);
    const original = family.scope.split(' ').filter((s) => s && clientScopes.has(s));
    const scopes = grantScopes(params.scope, original);

    const planned = planUserAccessToken(ctx, user, scopes, family.authTime);
    const { idleSeconds } = refreshLifetimes(ctx);
    const successor = newOpaqueToken();
    const rotated = await services.refreshTokens.rotate(presentedHash, now, {
      tokenHash: successor.hash,
      // The successor carries the family's original scope, so a narrowed refresh does not
      // permanently narrow the login (RFC 6749 §6).
      scope: family.scope,
      accessTokenJti: planned.claims.jti,
      accessTokenExpiresAt: planned.expiresAt,
      idleExpiresAt: new Date(Math.min(now.getTime() + idleSeconds * 1000, family.expiresAt.getTime())),
    });
    // Lost a concurrent race (or the family was revoked meanwhile): benign, see above.
    if (!rotated) throw invalid('refresh token was rotated concurrently');

    return signUserResponse(ctx, { planned, user, scopes, authTime: family.authTime, amr: family.amr, refreshToken: successor.value });
  },
});

async function onReuse(ctx: GrantContext, familyId: string, userId: string, rotatedAt: Date, now: Date): Promise<void> {
  const graceMs = ctx.services.config.REFRESH_REUSE_GRACE_SECONDS * 1000;
  if (now.getTime() - rotatedAt.getTime() <= graceMs) return; // benign race: family kept
  const revoked = await ctx.services.refreshTokens.revokeFamily(familyId, 'refresh_token_reuse', now);
  if (revoked) {
    metrics.refreshReuse.inc();
    await ctx.services.audit.record({
      type: 'refresh_token.reuse_detected',
      userId,
      clientId: ctx.client.id,
      ip: ctx.ip,
      requestId: ctx.requestId,
      details: { familyId, rotatedAt: rotatedAt.toISOString() },
    });
  }
}
