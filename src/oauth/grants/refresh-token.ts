/**
 * Refresh Token grant (RFC 6749 §6) with rotation, reuse detection (RFC 9700 §4.14.2) and a
 * retry window that never loses a session.
 *
 * Rotation: every use returns a new refresh token and retires the presented one. Validation
 * (token known, same client, family alive and within its absolute and idle lifetimes, user
 * enabled, scope not widened) guards a conditional UPDATE that claims the presented token and
 * must hit exactly one row, with the successor inserted in the same statement, so of many
 * concurrent requests exactly one wins (the repository's rotate()). The token is read first
 * only to check a requested `scope`, and after a refusal to tell why.
 *
 * Retry window: a response can be lost after the rotation committed (the client lost signal,
 * a proxy timed out, the database's acknowledgement never arrived, the process died). The
 * client still holds the rotated token; presenting it again within REFRESH_REUSE_GRACE_SECONDS
 * of the rotation returns the *same* successor the rotation issued (with a fresh access token
 * and, for `openid`, ID token), so the chain stays one chain and no retry mints a second
 * successor. To give the successor back, the rotation keeps its plaintext sealed under a key
 * derived from the presented token (tokens/retry-seal.ts), which is stored only as a hash: a
 * copy of the database cannot open a seal, so it is no more use for refreshing than before.
 * The seal is deleted when the successor is itself rotated (the chain moved on: the old token's
 * window ends at once), when the family is revoked, and by the purge when the window ends.
 *
 * Threat model of the window: whoever presents the rotated token inside it continues the same
 * chain — the successor is not a new credential but the one the rotation already handed out,
 * and only a holder of the rotated token can open its seal. If a thief and the client both
 * hold the chain, the first of them to present a token the other has already rotated, outside
 * the window, is detected as reuse, as without the window. A rotated token presented after
 * its successor moved on but inside the window gets invalid_grant and the family lives (a late
 * duplicate, e.g. of a gateway's retry).
 *
 * Reuse: a rotated token presented more than REFRESH_REUSE_GRACE_SECONDS after its rotation
 * is treated as theft (RFC 9700 §4.14.2: the server cannot tell attacker from client, so it
 * revokes the whole family — every refresh token of the login and, by jti, the access tokens
 * issued from it, retries' included) and an audit event is recorded.
 *
 * All refusals are the same invalid_grant (RFC 6749 §5.2), whatever the reason, so a probe
 * learns nothing about other clients' tokens; a token bound to another client is refused
 * without touching it (RFC 6749 §6: "the refresh token is bound to the client").
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { RefreshReplay, RefreshRotation, RefreshTokenLookup, UserProfile } from '../../persistence/types';
import { metrics } from '../../observability/metrics';
import { constantTimeEqual } from '../../shared/crypto';
import { accessTokenTtl } from '../../tokens/access-token';
import { hashOpaqueToken, newOpaqueToken } from '../../tokens/opaque';
import { openSuccessor, sealSuccessor } from '../../tokens/retry-seal';
import { InvalidGrant } from '../errors';
import { splitScope } from '../scope';
import { planUserAccessToken, refreshLifetimes, signUserResponse } from './issue';
import { grantScopes } from './scope';
import { defineGrant, type GrantContext, type TokenResponse } from './types';

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

    // A requested scope is checked against the grant first (it may only narrow it).
    let requested: string[] | undefined;
    let found: RefreshTokenLookup | null | undefined;
    if (params.scope !== undefined) {
      found = await services.refreshTokens.findByHash(presentedHash);
      if (!found) throw invalid('unknown refresh token');
      if (!withinRetryWindow(ctx, found, now)) await check(ctx, found, now);
      requested = grantedScopes(client.scopes, found.family.scope, params.scope);
    }
    const access = plannedAccessIdentity(ctx, now);
    if (!found?.token.rotatedAt) {
      // Check and rotate in one statement, whose guards are check()'s conditions. The successor
      // carries the family's original scope, so a narrowed refresh does not permanently narrow
      // the login (RFC 6749 §6).
      const successor = newOpaqueToken();
      const successorId = randomUUID();
      const { idleSeconds } = refreshLifetimes(ctx);
      const result = await services.refreshTokens.rotate(presentedHash, client.id, now, {
        id: successorId,
        tokenHash: successor.hash,
        accessTokenJti: access.jti,
        accessTokenExpiresAt: access.expiresAt,
        idleExpiresAt: new Date(now.getTime() + idleSeconds * 1000),
        retrySeal: sealSuccessor(params.refresh_token, presentedHash, successorId, successor.value),
      });
      if (result) return respond(ctx, result, successor.value, requested, access);
      // Refused: the token is looked up to tell why (and a replayed token may be a retry).
      found = await services.refreshTokens.findByHash(presentedHash);
      if (!found) throw invalid('unknown refresh token');
    }
    if (withinRetryWindow(ctx, found, now)) {
      const retried = await retryRotation(ctx, params.refresh_token, presentedHash, now, access);
      if (retried) return respond(ctx, retried.replay, retried.successor, requested, access);
    }
    await check(ctx, found, now);
    // Every check passes on this second look: the state changed in between (e.g. the user
    // was re-enabled). Refused like a lost race; the client may simply retry.
    throw invalid('refresh token was rotated concurrently');
  },
});

/** The new access token's identity, fixed before it is stored with the successor or the retry. */
interface AccessIdentity {
  jti: string;
  now: number;
  expiresAt: Date;
}

function plannedAccessIdentity(ctx: GrantContext, now: Date): AccessIdentity {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const ttl = accessTokenTtl(ctx.client, ctx.services.config.ACCESS_TOKEN_TTL);
  return { jti: randomUUID(), now: nowSeconds, expiresAt: new Date((nowSeconds + ttl) * 1000) };
}

/** A token this client rotated no longer ago than the retry window (REFRESH_REUSE_GRACE_SECONDS). */
function withinRetryWindow(ctx: GrantContext, found: RefreshTokenLookup, now: Date): boolean {
  const { token, family } = found;
  if (family.clientId !== ctx.client.id || !token.rotatedAt || token.revokedAt || family.revokedAt) return false;
  return now.getTime() - token.rotatedAt.getTime() <= retryWindowMs(ctx);
}

const retryWindowMs = (ctx: GrantContext) => ctx.services.config.REFRESH_REUSE_GRACE_SECONDS * 1000;

/**
 * Hands back the successor of an earlier rotation of the presented token, when its seal is
 * still there (see the header). The seal opens only with the presented token; one that does not
 * open, or opens to anything but the successor the database names, is refused.
 */
async function retryRotation(ctx: GrantContext, presented: string, presentedHash: string, now: Date, access: AccessIdentity): Promise<{ replay: RefreshReplay; successor: string } | null> {
  const { services } = ctx;
  const windowStart = new Date(now.getTime() - retryWindowMs(ctx));
  const replay = await services.refreshTokens.replayRotation(presentedHash, ctx.client.id, now, windowStart, { jti: access.jti, expiresAt: access.expiresAt });
  if (!replay) return null;
  const successor = openSuccessor(presented, presentedHash, replay.successor.id, replay.sealed);
  if (successor === null || !constantTimeEqual(hashOpaqueToken(successor), replay.successor.tokenHash)) {
    ctx.log.warn({ familyId: replay.family.id }, 'refresh retry seal did not open to its successor; refused');
    return null;
  }
  metrics.refreshRetries.inc();
  return { replay, successor };
}

/** Signs the access token (and ID token for `openid`) that go with `refreshToken`. */
function respond(ctx: GrantContext, issued: Pick<RefreshRotation, 'family' | 'user'>, refreshToken: string, requested: string[] | undefined, access: AccessIdentity): Promise<TokenResponse> {
  const { family, user } = issued;
  const scopes = requested ?? grantedScopes(ctx.client.scopes, family.scope, undefined);
  const planned = planUserAccessToken(ctx, user, scopes, family.authTime, { jti: access.jti, now: access.now });
  return signUserResponse(ctx, { planned, user, scopes, authTime: family.authTime, amr: family.amr, sessionId: family.sessionId, refreshToken });
}

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
  return grantScopes(requested, splitScope(familyScope).filter((s) => allowed.has(s)));
}

async function onReuse(ctx: GrantContext, familyId: string, userId: string, rotatedAt: Date, now: Date): Promise<void> {
  // Inside the retry window and not handed back (the chain moved on): family kept.
  if (now.getTime() - rotatedAt.getTime() <= retryWindowMs(ctx)) return;
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
