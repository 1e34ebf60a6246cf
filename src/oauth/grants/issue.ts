/**
 * Issuing tokens for a user's login, shared by the grants that log a user in (password,
 * authorization_code): decides the access token's identity and — when the client may refresh
 * — the refresh token and the family it opens (prepareLogin), which the grant stores (the
 * password grant in its login's own success statement), then signs the access token and, with
 * `openid` in scope, the ID token (issuePrepared). Storage happens before signing, so nothing
 * is signed that was not recorded.
 */
import { randomUUID } from 'node:crypto';
import type { OpeningFamily } from '../../tokens/refresh-token-storage';
import type { UserProfile } from '../../accounts/user-storage';
import { accessTokenTtl, planAccessToken, signAccessToken, type PlannedAccessToken } from '../../tokens/access-token';
import { mintIdToken } from '../../tokens/id-token';
import { newOpaqueToken } from '../../tokens/opaque';
import type { GrantContext, TokenResponse } from './types';

export interface UserLogin {
  scopes: string[];
  authTime: Date;
  /** Authentication methods (RFC 8176), e.g. ["pwd"]. */
  amr: string[];
  nonce?: string | undefined;
  sessionId?: string | null;
  /** Whether to open a refresh-token family. */
  withRefreshToken: boolean;
}

/** What a login stores and signs, decided before it is stored (prepareLogin). */
export interface PreparedLogin {
  login: UserLogin;
  /** The access token's jti and issue time (epoch seconds), stored with the refresh token. */
  fixed: { jti: string; now: number };
  /** The refresh token (plaintext, for the client only) and the family it opens. */
  refresh?: { value: string; opening: OpeningFamily };
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

export function prepareLogin(ctx: GrantContext, login: UserLogin): PreparedLogin {
  const now = ctx.services.clock.now();
  const fixed = { jti: randomUUID(), now: epoch(now) };
  if (!login.withRefreshToken) return { login, fixed };
  const { absoluteSeconds, idleSeconds } = refreshLifetimes(ctx);
  const expiresAt = new Date(now.getTime() + absoluteSeconds * 1000);
  const scope = login.scopes.join(' ');
  const opaque = newOpaqueToken();
  const opening: OpeningFamily = {
    family: { clientId: ctx.client.id, sessionId: login.sessionId ?? null, scope, authTime: login.authTime, amr: login.amr, expiresAt },
    first: {
      tokenHash: opaque.hash,
      scope,
      accessTokenJti: fixed.jti,
      // What planAccessToken will make of the same issue time (planUserAccessToken with `fixed`).
      accessTokenExpiresAt: new Date((fixed.now + accessTokenTtl(ctx.client, ctx.services.config.ACCESS_TOKEN_TTL)) * 1000),
      idleExpiresAt: new Date(Math.min(now.getTime() + idleSeconds * 1000, expiresAt.getTime())),
    },
  };
  return { login, fixed, refresh: { value: opaque.value, opening } };
}

/** Signs the tokens of a prepared login, once what it stores has been stored, for its user. */
export function issuePrepared(ctx: GrantContext, prepared: PreparedLogin, user: UserProfile): Promise<TokenResponse> {
  const { login } = prepared;
  const planned = planUserAccessToken(ctx, user, login.scopes, login.authTime, prepared.fixed);
  return signUserResponse(ctx, { planned, user, scopes: login.scopes, authTime: login.authTime, amr: login.amr, nonce: login.nonce, sessionId: login.sessionId, refreshToken: prepared.refresh?.value });
}

export interface UserResponseParts {
  planned: PlannedAccessToken;
  user: UserProfile;
  scopes: string[];
  authTime: Date;
  amr: string[];
  nonce?: string | undefined;
  /**
   * The browser session the login belongs to (the ID token's `sid`): the authorization code's
   * session, or for a refresh the family's `sessionId`. Null or absent: no `sid`.
   */
  sessionId?: string | null | undefined;
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
      sessionId: parts.sessionId,
      accessToken,
      now: clock.epochSeconds(),
      defaultTtlSeconds: config.ID_TOKEN_TTL,
      defaultAlg: config.DEFAULT_SIGNING_ALG,
    });
  }
  return response;
}
