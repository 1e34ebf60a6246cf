/**
 * Issuing tokens, shared by every grant, in fosite's two phases: a grant's validate phase
 * decides (a Decision: who gets which tokens, and what issuing them stores — the family a
 * login opens, or the rotation to perform), then issue() fixes the access token's jti and
 * expiry once, has the decision store them, and signs. Storage happens before signing, so
 * nothing is signed that was not recorded.
 */
import type { OpeningFamily } from '../../tokens/refresh-token-storage';
import type { UserProfile } from '../../accounts/user-storage';
import type { Services } from '../../services';
import {
  newAccessTokenIdentity,
  planAccessToken,
  signAccessToken,
  type AccessTokenIdentity,
  type ActorClaim,
} from '../../tokens/access-token';
import { mintIdToken } from '../../tokens/id-token';
import { ACCESS_TOKEN_TYPE } from './exchange-tokens';
import { newOpaqueToken } from '../../tokens/opaque';
import type { GrantContext, TokenResponse } from './types';

/** What issuing uses of the services. */
export type IssueDeps = Pick<Services, 'config' | 'clock' | 'keyStore'>;

/** A user's tokens: whose, which scopes, and how the user authenticated (auth_time, amr, sid). */
export interface UserGrant {
  user: UserProfile;
  scopes: string[];
  authTime: Date;
  /** Authentication methods (RFC 8176), e.g. ["pwd"]. */
  amr: string[];
  nonce?: string | undefined;
  /**
   * The browser session the login belongs to (the ID token's `sid`): the authorization code's
   * session, or for a refresh the family's. Null: no `sid`.
   */
  sessionId: string | null;
  /**
   * RFC 8707: the resources the login granted, which the family it opens remembers; absent or
   * empty: the client's default audience (oauth/resources.ts).
   */
  resources?: readonly string[];
}

/** What a login stores before its tokens are signed: the access token and the family it opens, if any. */
export interface LoginIssue {
  access: AccessTokenIdentity;
  opening: OpeningFamily | null;
}

/** A rotation's outcome: the user's grant, as the family recorded it, and the refresh token to hand out. */
export interface RotatedGrant {
  grant: UserGrant;
  refreshToken: string;
  /** RFC 8707: the new access token's resources (its `aud`); absent: the client's default. */
  audience?: string[] | undefined;
}

/** A grant's decision (its validate phase), taken at `at`; issue() carries it out. */
export type Decision =
  /** A token for the client itself (client_credentials); `audience`: its resources (RFC 8707). */
  | { kind: 'client'; at: Date; scopes: string[]; audience?: string[] | undefined }
  /**
   * A user's login (password, authorization_code); opens a family when `refresh`; `store`
   * records it. `audience`: the access token's resources (RFC 8707), within the grant's.
   */
  | {
      kind: 'login';
      at: Date;
      grant: UserGrant;
      refresh: boolean;
      store(issue: LoginIssue): Promise<void>;
      audience?: string[] | undefined;
    }
  /** A refresh: `rotate` performs the rotation (or hands back its retry) recording the new access token. */
  | { kind: 'rotation'; at: Date; rotate(access: AccessTokenIdentity): Promise<RotatedGrant> }
  /** A token exchange (RFC 8693): a token for `user`, acting as `act` says, never outliving `notAfter`. */
  | { kind: 'exchange'; at: Date; exchange: ExchangedToken };

/** What a token exchange issues (RFC 8693 §2.2.1): an access token for the subject's user. */
export interface ExchangedToken {
  user: UserProfile;
  /** The subject's authentication time (seconds since the epoch), kept as `auth_time`. */
  authTime?: number | undefined;
  scopes: string[];
  /** RFC 8693 §2.1 audience / RFC 8707 resource: the token's `aud`. */
  audience: string[];
  /** RFC 8693 §4.1: the actor (earlier ones nested); absent for impersonation. */
  act?: ActorClaim | undefined;
  /** The subject token's expiry: an exchange never extends the subject's authority. */
  notAfter: Date;
}

/** Plans the decision's tokens (jti and expiry once), stores them as it says, signs them. */
export async function issue(
  ctx: GrantContext<IssueDeps>,
  decision: Decision,
): Promise<TokenResponse> {
  const access = newAccessTokenIdentity(
    ctx.client,
    decision.at,
    ctx.services.config.ACCESS_TOKEN_TTL,
  );
  switch (decision.kind) {
    case 'client':
      return sign(ctx, access, decision.scopes, null, undefined, decision.audience);
    case 'login': {
      const family = decision.refresh ? openFamily(ctx, decision.at, decision.grant, access) : null;
      await decision.store({ access, opening: family?.opening ?? null });
      return sign(
        ctx,
        access,
        decision.grant.scopes,
        decision.grant,
        family?.refreshToken,
        decision.audience,
      );
    }
    case 'rotation': {
      const { grant, refreshToken, audience } = await decision.rotate(access);
      return sign(ctx, access, grant.scopes, grant, refreshToken, audience);
    }
    case 'exchange':
      return signExchanged(ctx, notAfter(access, decision.exchange.notAfter), decision.exchange);
  }
}

/** The identity with its expiry brought forward to `limit` when that comes first. */
function notAfter(access: AccessTokenIdentity, limit: Date): AccessTokenIdentity {
  if (limit.getTime() >= access.expiresAt.getTime()) return access;
  const exp = Math.max(access.iat, epoch(limit));
  return { ...access, exp, expiresIn: exp - access.iat, expiresAt: new Date(exp * 1000) };
}

/** Signs an exchange's access token and builds its response (RFC 8693 §2.2.1): no refresh token. */
async function signExchanged(
  ctx: GrantContext<IssueDeps>,
  access: AccessTokenIdentity,
  exchanged: ExchangedToken,
): Promise<TokenResponse> {
  const { config, keyStore } = ctx.services;
  const planned = planAccessToken({
    issuer: config.issuer,
    client: ctx.client,
    user: exchanged.user,
    scopes: exchanged.scopes,
    authTime: exchanged.authTime,
    identity: access,
    defaultAlg: config.DEFAULT_SIGNING_ALG,
    resources: exchanged.audience,
    jkt: ctx.dpopJkt,
    act: exchanged.act,
  });
  return {
    access_token: await signAccessToken(keyStore, planned),
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: ctx.dpopJkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: planned.expiresIn,
    scope: exchanged.scopes.join(' '),
  };
}

/** Refresh-token lifetimes for this client: absolute (family) and idle (per token). */
export function refreshLifetimes(ctx: GrantContext<IssueDeps>): {
  absoluteSeconds: number;
  idleSeconds: number;
} {
  const { config } = ctx.services;
  return {
    absoluteSeconds: ctx.client.refreshTokenTtl ?? config.REFRESH_TOKEN_TTL,
    idleSeconds: ctx.client.refreshTokenIdleTtl ?? config.REFRESH_TOKEN_IDLE_TTL,
  };
}

/** The family a login opens at `at`, its first refresh token issued with `access`. */
function openFamily(
  ctx: GrantContext<IssueDeps>,
  at: Date,
  grant: UserGrant,
  access: AccessTokenIdentity,
): { refreshToken: string; opening: OpeningFamily } {
  const { absoluteSeconds, idleSeconds } = refreshLifetimes(ctx);
  const expiresAt = new Date(at.getTime() + absoluteSeconds * 1000);
  const scope = grant.scopes.join(' ');
  const opaque = newOpaqueToken();
  return {
    refreshToken: opaque.value,
    opening: {
      family: {
        clientId: ctx.client.id,
        sessionId: grant.sessionId,
        scope,
        authTime: grant.authTime,
        amr: grant.amr,
        expiresAt,
        resources: [...(grant.resources ?? [])],
        // RFC 9449 §5: a public client's refresh tokens are bound to the proof's key; a
        // confidential client's are bound to the client already, and stay unbound.
        dpopJkt: ctx.client.isPublic ? (ctx.dpopJkt ?? null) : null,
      },
      first: {
        tokenHash: opaque.hash,
        scope,
        accessTokenJti: access.jti,
        accessTokenExpiresAt: access.expiresAt,
        idleExpiresAt: new Date(Math.min(at.getTime() + idleSeconds * 1000, expiresAt.getTime())),
      },
    },
  };
}

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Signs the access token (for `audience`, RFC 8707, when given) and, for a user's `openid`, the
 * ID token; builds the response (RFC 6749 §5.1).
 */
async function sign(
  ctx: GrantContext<IssueDeps>,
  access: AccessTokenIdentity,
  scopes: string[],
  grant: UserGrant | null,
  refreshToken?: string,
  audience?: readonly string[],
): Promise<TokenResponse> {
  const { config, clock, keyStore } = ctx.services;
  const planned = planAccessToken({
    issuer: config.issuer,
    client: ctx.client,
    user: grant?.user,
    scopes,
    authTime: grant ? epoch(grant.authTime) : undefined,
    identity: access,
    defaultAlg: config.DEFAULT_SIGNING_ALG,
    resources: audience,
    jkt: ctx.dpopJkt,
  });
  const accessToken = await signAccessToken(keyStore, planned);
  const response: TokenResponse = {
    access_token: accessToken,
    // RFC 9449 §5: a token bound to the proof's key is of type DPoP.
    token_type: ctx.dpopJkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: planned.expiresIn,
    scope: scopes.join(' '),
  };
  if (refreshToken !== undefined) response.refresh_token = refreshToken;
  if (grant && scopes.includes('openid')) {
    response.id_token = await mintIdToken(keyStore, {
      issuer: config.issuer,
      client: ctx.client,
      user: grant.user,
      scopes,
      authTime: epoch(grant.authTime),
      amr: grant.amr,
      nonce: grant.nonce,
      sessionId: grant.sessionId,
      accessToken,
      now: clock.epochSeconds(),
      defaultTtlSeconds: config.ID_TOKEN_TTL,
      defaultAlg: config.DEFAULT_SIGNING_ALG,
    });
  }
  return response;
}
