/**
 * Refresh Token grant (RFC 6749 §6) with rotation, reuse detection (RFC 9700 §4.14.2) and a
 * retry window that never loses a session.
 *
 * Rotation: every use returns a new refresh token and retires the presented one. Validation
 * (token known, same client, family alive and within its absolute and idle lifetimes, user
 * enabled, scope not widened) guards a conditional UPDATE that claims the presented token and
 * must hit exactly one row, with the successor inserted in the same statement, so of many
 * concurrent requests exactly one wins (the repository's rotateRefreshToken()). The token is read first
 * only to check a requested `scope` or `resource`, and after a refusal to tell why.
 *
 * Resources (RFC 8707 §2.2): a refresh may name a subset of the family's resources (the new
 * access token's `aud`), never one outside them (invalid_target, checked before anything is
 * rotated); like a narrowed scope, it does not narrow the family.
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
 * DPoP (RFC 9449 §5): a public client's family opened with a proof is bound to its key and
 * rotates only with a proof by that key (a guard of the rotation's statement); a presentation
 * without it is refused without touching the family (it proves no hold on the chain, so it is
 * not reuse). Bound or not, every use rotates, so reuse detection is the same for all families.
 *
 * All refusals are the same invalid_grant (RFC 6749 §5.2), whatever the reason, so a probe
 * learns nothing about other clients' tokens; a token bound to another client is refused
 * without touching it (RFC 6749 §6: "the refresh token is bound to the client").
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type {
  RefreshReplay,
  RefreshRotation,
  RefreshTokenLookup,
} from '../../tokens/refresh-token-storage';
import type { UserProfile } from '../../accounts/user-storage';
import type { Services } from '../../services';
import { metrics } from '../../observability/metrics';
import { constantTimeEqual } from '../../shared/crypto';
import type { AccessTokenIdentity } from '../../tokens/access-token';
import { hashOpaqueToken, newOpaqueToken } from '../../tokens/opaque';
import { openSuccessor, sealSuccessor } from '../../tokens/retry-seal';
import { proofKeyMismatch } from '../dpop/binding';
import { InvalidGrant } from '../errors';
import { parseResources, resourceParam, tokenResources } from '../resources';
import {
  issue,
  refreshLifetimes,
  type Decision,
  type IssueDeps,
  type RotatedGrant,
  type UserGrant,
} from './issue';
import { splitScope } from '../scope';
import { grantScopes } from './scope';
import type { GrantContext, GrantModule, TokenResponse } from './types';

type RefreshDeps = IssueDeps & Pick<Services, 'refreshTokens' | 'audit'>;
type Ctx = GrantContext<RefreshDeps>;

const invalid = (cause: string) =>
  new InvalidGrant('The refresh token is invalid, expired or revoked', { cause });

const params = z.object({
  refresh_token: z
    .string({ error: 'refresh_token is required' })
    .min(1, 'refresh_token is required')
    .max(512, 'refresh_token is too long'),
  scope: z.string().optional(),
  resource: resourceParam,
});
type Params = z.infer<typeof params>;

async function refreshTokenHandler(p: Params, ctx: Ctx): Promise<TokenResponse> {
  return issue(ctx, await validateRefresh(p, ctx));
}

/** What the presented token is, and the scope asked for (checked up front, see the header). */
interface Presented {
  value: string;
  hash: string;
  /** Its look-up, when the scope check needed one. */
  found: RefreshTokenLookup | undefined;
  /** The requested scopes (validated against the grant), or undefined for the original grant. */
  requested: string[] | undefined;
}

/** A requested scope or resource is checked against the grant first (each may only narrow it); the rotation decides the rest. */
async function validateRefresh(p: Params, ctx: Ctx): Promise<Decision> {
  const now = ctx.services.clock.now();
  const hash = hashOpaqueToken(p.refresh_token);
  const resources = parseResources(p.resource);
  const registered = ctx.client.audiences;
  let found: RefreshTokenLookup | undefined;
  let requested: string[] | undefined;
  let audience: string[] | undefined;
  if (p.scope !== undefined || resources !== undefined) {
    found = (await ctx.services.refreshTokens.findByHash(hash)) ?? undefined;
    if (!found) throw invalid('unknown refresh token');
    if (!withinRetryWindow(ctx, found, now)) await check(ctx, found, now);
    if (p.scope !== undefined)
      requested = grantedScopes(ctx.client.scopes, found.family.scope, p.scope);
    if (resources !== undefined)
      audience = tokenResources(resources, found.family.resources, registered);
  }
  const presented: Presented = { value: p.refresh_token, hash, found, requested };
  return {
    kind: 'rotation',
    at: now,
    // The new access token is for the resources asked for (checked above), else the family's.
    rotate: async (access) => {
      const rotated = await rotateOrRetry(ctx, presented, now, access);
      const granted = rotated.grant.resources ?? [];
      return { ...rotated, audience: audience ?? tokenResources(undefined, granted, registered) };
    },
  };
}

/**
 * Rotates the presented token for `access` or, inside the retry window, hands back the
 * successor an earlier rotation issued; otherwise tells the refusal.
 */
async function rotateOrRetry(
  ctx: Ctx,
  presented: Presented,
  now: Date,
  access: AccessTokenIdentity,
): Promise<RotatedGrant> {
  const { services, client } = ctx;
  let found = presented.found;
  if (!found?.token.rotatedAt) {
    // Check and rotate in one statement, whose guards are check()'s conditions. The successor
    // carries the family's original scope, so a narrowed refresh does not permanently narrow
    // the login (RFC 6749 §6).
    const successor = newOpaqueToken();
    const successorId = randomUUID();
    const { idleSeconds } = refreshLifetimes(ctx);
    const result = await services.refreshTokens.rotateRefreshToken(
      presented.hash,
      client.id,
      now,
      {
        id: successorId,
        tokenHash: successor.hash,
        accessTokenJti: access.jti,
        accessTokenExpiresAt: access.expiresAt,
        idleExpiresAt: new Date(now.getTime() + idleSeconds * 1000),
        retrySeal: sealSuccessor(presented.value, presented.hash, successorId, successor.value),
      },
      ctx.dpopJkt ?? null,
    );
    if (result)
      return { grant: userGrant(ctx, result, presented.requested), refreshToken: successor.value };
    // Refused: the token is looked up to tell why (and a replayed token may be a retry).
    found = (await services.refreshTokens.findByHash(presented.hash)) ?? undefined;
    if (!found) throw invalid('unknown refresh token');
  }
  if (withinRetryWindow(ctx, found, now)) {
    requireProofKey(ctx, found);
    const retried = await retryRotation(ctx, presented.value, presented.hash, now, access);
    if (retried)
      return {
        grant: userGrant(ctx, retried.replay, presented.requested),
        refreshToken: retried.successor,
      };
  }
  await check(ctx, found, now);
  // Every check passes on this second look: the state changed in between (e.g. the user
  // was re-enabled). Refused like a lost race; the client may simply retry.
  throw invalid('refresh token was rotated concurrently');
}

/** The grant the family recorded at login, with the scopes of this refresh. */
function userGrant(
  ctx: Ctx,
  issued: Pick<RefreshRotation, 'family' | 'user'>,
  requested: string[] | undefined,
): UserGrant {
  const { family, user } = issued;
  const scopes = requested ?? grantedScopes(ctx.client.scopes, family.scope, undefined);
  const { authTime, amr, sessionId, resources } = family;
  return { user, scopes, authTime, amr, sessionId, resources };
}

/** A token this client rotated no longer ago than the retry window (REFRESH_REUSE_GRACE_SECONDS). */
function withinRetryWindow(ctx: Ctx, found: RefreshTokenLookup, now: Date): boolean {
  const { token, family } = found;
  if (family.clientId !== ctx.client.id || !token.rotatedAt || token.revokedAt || family.revokedAt)
    return false;
  return now.getTime() - token.rotatedAt.getTime() <= retryWindowMs(ctx);
}

const retryWindowMs = (ctx: Ctx) => ctx.services.config.REFRESH_REUSE_GRACE_SECONDS * 1000;

/**
 * Hands back the successor of an earlier rotation of the presented token, when its seal is
 * still there (see the header). The seal opens only with the presented token; one that does not
 * open, or opens to anything but the successor the database names, is refused.
 */
async function retryRotation(
  ctx: Ctx,
  presented: string,
  presentedHash: string,
  now: Date,
  access: AccessTokenIdentity,
): Promise<{ replay: RefreshReplay; successor: string } | null> {
  const { services } = ctx;
  const windowStart = new Date(now.getTime() - retryWindowMs(ctx));
  const replay = await services.refreshTokens.replayRotation(
    presentedHash,
    ctx.client.id,
    now,
    windowStart,
    { jti: access.jti, expiresAt: access.expiresAt },
  );
  if (!replay) return null;
  const successor = openSuccessor(presented, presentedHash, replay.successor.id, replay.sealed);
  if (
    successor === null ||
    !constantTimeEqual(hashOpaqueToken(successor), replay.successor.tokenHash)
  ) {
    ctx.log.warn(
      { familyId: replay.family.id },
      'refresh retry seal did not open to its successor; refused',
    );
    return null;
  }
  metrics.refreshRetries.inc();
  return { replay, successor };
}

/**
 * The refusals, in order; resolves with the user when the token may be rotated. A token that
 * was already rotated is reuse (see above).
 */
async function check(ctx: Ctx, found: RefreshTokenLookup, now: Date): Promise<UserProfile> {
  const { token, family, user } = found;
  if (family.clientId !== ctx.client.id) throw invalid('refresh token belongs to another client');
  requireProofKey(ctx, found);
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

/** RFC 9449 §5: a bound family's tokens need a proof by its key (before anything else is judged). */
function requireProofKey(ctx: Ctx, found: RefreshTokenLookup): void {
  const mismatch = proofKeyMismatch(found.family.dpopJkt, ctx.dpopJkt);
  if (mismatch) throw invalid(mismatch);
}

/**
 * RFC 6749 §6: the scope may shrink, never grow beyond the original grant (and what the client
 * is still allowed today); omitted means the original grant.
 */
function grantedScopes(
  clientScopes: readonly string[],
  familyScope: string,
  requested: string | undefined,
): string[] {
  const allowed = new Set(clientScopes);
  return grantScopes(
    requested,
    splitScope(familyScope).filter((s) => allowed.has(s)),
  );
}

async function onReuse(
  ctx: Ctx,
  familyId: string,
  userId: string,
  rotatedAt: Date,
  now: Date,
): Promise<void> {
  // Inside the retry window and not handed back (the chain moved on): family kept.
  if (now.getTime() - rotatedAt.getTime() <= retryWindowMs(ctx)) return;
  const revoked = await ctx.services.refreshTokens.revokeFamily(
    familyId,
    'refresh_token_reuse',
    now,
  );
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

export const refreshTokenGrant = {
  grantType: 'refresh_token',
  params,
  handle: refreshTokenHandler,
} satisfies GrantModule<typeof params, RefreshDeps>;
