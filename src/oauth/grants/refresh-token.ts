/**
 * Refresh Token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).
 *
 * Every use returns a new refresh token and retires the presented one. Validation (token
 * known, same client, family alive and within its absolute and idle lifetimes, user enabled,
 * scope not widened) guards a conditional UPDATE that claims the presented token and must hit
 * exactly one row, with the successor inserted in the same statement, so of many concurrent
 * requests exactly one wins. That statement's SQL guards are the validation (rotate()); the
 * token is read first only to check a requested `scope`, and after a refusal to name it.
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
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { RefreshTokenLookup, UserProfile } from '../../persistence/types';
import { accessTokenTtl } from '../../tokens/access-token';
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
    const { idleSeconds } = refreshLifetimes(ctx);
    const successor = newOpaqueToken();
    const idleCap = new Date(now.getTime() + idleSeconds * 1000);

    // A requested scope is checked against the grant first (it may only narrow it).
    let requested: string[] | undefined;
    if (params.scope !== undefined) {
      const found = await services.refreshTokens.findByHash(presentedHash);
      if (!found) throw invalid('unknown refresh token');
      await check(ctx, found, now);
      requested = grantedScopes(client.scopes, found.family.scope, params.scope);
    }
    // Check and rotate in one statement, whose guards are check()'s conditions; on a refusal
    // the token is looked up and check() names the reason (and a replayed token still revokes
    // its family). The successor carries the family's original scope, so a narrowed refresh
    // does not permanently narrow the login (RFC 6749 §6).
    const jti = randomUUID();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const ttl = accessTokenTtl(client, services.config.ACCESS_TOKEN_TTL);
    const result = await services.refreshTokens.rotate(presentedHash, client.id, now, {
      tokenHash: successor.hash,
      accessTokenJti: jti,
      accessTokenExpiresAt: new Date((nowSeconds + ttl) * 1000),
      idleExpiresAt: idleCap,
    });
    if (!result) {
      const found = await services.refreshTokens.findByHash(presentedHash);
      if (!found) throw invalid('unknown refresh token');
      await check(ctx, found, now);
      // Every check passes on this second look: the state changed in between (e.g. the user
      // was re-enabled). Refused like a lost race; the client may simply retry.
      throw invalid('refresh token was rotated concurrently');
    }
    const { family, user } = result;
    const scopes = requested ?? grantedScopes(client.scopes, family.scope, undefined);
    const planned = planUserAccessToken(ctx, user, scopes, family.authTime, { jti, now: nowSeconds });
    return signUserResponse(ctx, { planned, user, scopes, authTime: family.authTime, amr: family.amr, refreshToken: successor.value });
  },
});

/**
 * The refusals, in order; resolves with the user when the token may be rotated. A token that
 * was already rotated is reuse (see above).
 */
async function check(ctx: GrantContext, found: RefreshTokenLookup, now: Date): Promise<UserProfile> {
  const { token, family, user } = found;
  if (family.clientId !== ctx.client.id) throw invalid('refresh token belongs to another client');
  if (family.revokedAt || token.revokedAt) throw invalid('refresh token family revoked');
  if (token.rotatedAt) {
    await onReuse(ctx, family.id, family.userId, token.rotatedAt, now);
    throw invalid('refresh token already rotated');
  }
  if (family.expiresAt <= now) throw invalid('refresh token family expired (absolute lifetime)');
  if (token.idleExpiresAt <= now) throw invalid('refresh token expired (idle lifetime)');
  // A disabled (or deleted) user's logins stop working at once.
  if (!user || user.disabled) throw invalid('user disabled or gone');
  return user;
}

/**
 * RFC 6749 §6: the scope may shrink, never grow beyond the original grant (and what the client
 * is still allowed today); omitted means the original grant.
 */
function grantedScopes(clientScopes: readonly string[], familyScope: string, requested: string | undefined): string[] {
  const allowed = new Set(clientScopes);
  return grantScopes(requested, familyScope.split(' ').filter((s) => s && allowed.has(s)));
}

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
