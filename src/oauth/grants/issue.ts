/**
 * Issuing tokens for a user's login, shared by the grants that log a user in (password,
 * authorization_code): plans the access token, opens a refresh-token family when the client
 * may refresh, then signs the access token and — with `openid` in scope — the ID token.
 * Storage happens before signing, so nothing is signed that was not recorded.
 */
import type { UserProfile, UserRecord } from '../../persistence/types';
import { planAccessToken, signAccessToken, type PlannedAccessToken } from '../../tokens/access-token';
import { mintIdToken } from '../../tokens/id-token';
import { newOpaqueToken } from '../../tokens/opaque';
import type { GrantContext, TokenResponse } from './types';

export interface UserLogin {
  user: UserRecord;
  scopes: string[];
  authTime: Date;
  /** Authentication methods (RFC 8176), e.g. ["pwd"]. */
  amr: string[];
  nonce?: string | undefined;
  sessionId?: string | null;
  /** Whether to open a refresh-token family. */
  withRefreshToken: boolean;
}

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Plans the user's access token. `fixed` pins its jti and issue time when they were stored
 * before the token could be planned (refresh rotation stores the successor's jti and expiry in
 * the same statement that finds the user).
 */
export function planUserAccessToken(ctx: GrantContext, user: UserProfile, scopes: string[], authTime: Date, fixed?: { jti: string; now: number }): PlannedAccessToken {
  const { config, clock } = ctx.services;
  return planAccessToken({
    issuer: config.issuer,
    client: ctx.client,
    user,
    scopes,
    authTime: epoch(authTime),
    now: fixed?.now ?? clock.epochSeconds(),
    defaultTtlSeconds: config.ACCESS_TOKEN_TTL,
    defaultAlg: config.DEFAULT_SIGNING_ALG,
    jti: fixed?.jti,
  });
}

/** Refresh-token lifetimes for this client: absolute (family) and idle (per token). */
export function refreshLifetimes(ctx: GrantContext): { absoluteSeconds: number; idleSeconds: number } {
  const { config } = ctx.services;
  return {
    absoluteSeconds: ctx.client.refreshTokenTtl ?? config.REFRESH_TOKEN_TTL,
    idleSeconds: ctx.client.refreshTokenIdleTtl ?? config.REFRESH_TOKEN_IDLE_TTL,
  };
}

export async function issueForLogin(ctx: GrantContext, login: UserLogin): Promise<TokenResponse> {
  const now = ctx.services.clock.now();
  const planned = planUserAccessToken(ctx, login.user, login.scopes, login.authTime);
  let refreshToken: string | undefined;
  if (login.withRefreshToken) {
    const { absoluteSeconds, idleSeconds } = refreshLifetimes(ctx);
    const expiresAt = new Date(now.getTime() + absoluteSeconds * 1000);
    const opaque = newOpaqueToken();
    await ctx.services.refreshTokens.createFamily(
      { clientId: ctx.client.id, userId: login.user.id, sessionId: login.sessionId ?? null, scope: login.scopes.join(' '), authTime: login.authTime, amr: login.amr, expiresAt },
      {
        tokenHash: opaque.hash,
        scope: login.scopes.join(' '),
        accessTokenJti: planned.claims.jti,
        accessTokenExpiresAt: planned.expiresAt,
        idleExpiresAt: new Date(Math.min(now.getTime() + idleSeconds * 1000, expiresAt.getTime())),
      },
    );
    refreshToken = opaque.value;
  }
  return signUserResponse(ctx, { planned, user: login.user, scopes: login.scopes, authTime: login.authTime, amr: login.amr, nonce: login.nonce, refreshToken });
}

export interface UserResponseParts {
  planned: PlannedAccessToken;
  user: UserProfile;
  scopes: string[];
  authTime: Date;
  amr: string[];
  nonce?: string | undefined;
  refreshToken?: string | undefined;
}

/** Signs the planned access token and, for `openid`, the ID token; builds the response. */
export async function signUserResponse(ctx: GrantContext, parts: UserResponseParts): Promise<TokenResponse> {
  const { config, clock, keyStore } = ctx.services;
  const accessToken = await signAccessToken(keyStore, parts.planned);
  const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: parts.planned.expiresIn, scope: parts.scopes.join(' ') };
  if (parts.refreshToken !== undefined) response.refresh_token = parts.refreshToken;
  if (parts.scopes.includes('openid')) {
    response.id_token = await mintIdToken(keyStore, {
      issuer: config.issuer,
      client: ctx.client,
      user: parts.user,
      scopes: parts.scopes,
      authTime: epoch(parts.authTime),
      amr: parts.amr,
      nonce: parts.nonce,
      accessToken,
      now: clock.epochSeconds(),
      defaultTtlSeconds: config.ID_TOKEN_TTL,
      defaultAlg: config.DEFAULT_SIGNING_ALG,
    });
  }
  return response;
}
