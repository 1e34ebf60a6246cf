/**
 * The tokens a token exchange (RFC 8693 §2.1) is given — its subject token and its actor token —
 * checked with the server's own verifiers: only tokens Tessera issued are accepted, with their
 * signature (algorithm pinned to our key), issuer, `typ`, expiry, and for access tokens the
 * deny-list and the state of their client and user (tokens/verify-issued-access-token.ts).
 *
 * RFC 8693 §2.2.2: a token that is invalid for any reason, or unacceptable by policy, is
 * invalid_request; the description names the parameter, the private cause says why.
 */
import type { UserProfile } from '../../accounts/user-storage';
import type { ExchangeSubjectTokenType } from '../../clients/client-storage';
import { TokenVerificationError } from '../../keys/key-store';
import type { Services } from '../../services';
import type { ActorClaim } from '../../tokens/access-token';
import { ISSUER_EXP_LEEWAY_SECONDS } from '../../tokens/access-token-expiry';
import {
  AccessTokenRejected,
  accessTokenVerifierDeps,
  isClientToken,
  verifyIssuedAccessToken,
  type IssuedAccessTokenClaims,
} from '../../tokens/verify-issued-access-token';
import { InvalidRequest } from '../errors';
import type { GrantContext } from './types';

/** What checking the exchange's tokens uses of the services. */
export type ExchangeTokenDeps = Pick<
  Services,
  'config' | 'clock' | 'keyStore' | 'revokedAccessTokens' | 'users' | 'clientLookup'
>;

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** The subject of an exchange (RFC 8693 §1.1): a user, and what its token says about them. */
export interface ExchangeSubject {
  type: ExchangeSubjectTokenType;
  user: UserProfile;
  /** The scopes the subject token carries; null for an ID token, which carries none. */
  scopes: string[] | null;
  authTime?: number | undefined;
  /** The client the subject token was issued to. */
  clientId: string;
  /** RFC 8693 §4.1: the subject token's own actor chain, if it came from an exchange. */
  act?: ActorClaim | undefined;
  /** RFC 8693 §4.4: who the subject allows to act for it. */
  mayAct?: { sub: string } | undefined;
  expiresAt: Date;
}

/** The actor of an exchange (RFC 8693 §1.1), proven by an access token of the requesting client. */
export interface ExchangeActor {
  sub: string;
}

/** Checks `subject_token` as the `subject_token_type` it claims to be. */
export async function verifySubjectToken(
  token: string,
  type: ExchangeSubjectTokenType,
  ctx: GrantContext<ExchangeTokenDeps>,
): Promise<ExchangeSubject> {
  if (type === ID_TOKEN_TYPE) return verifyIdTokenSubject(token, ctx);
  const { claims, user } = await accessToken(token, 'subject_token', ctx);
  // A client's own token has no user to act for; RFC 8693 leaves such subjects to policy.
  if (!user || isClientToken(claims))
    throw new InvalidRequest('subject_token must be a user’s access token');
  // Policy (§2.2.2): a client exchanges only tokens meant for it — whose `aud` is its id or a
  // resource it serves (its registered audiences) — not any token it happens to hold.
  const mine = new Set([ctx.client.id, ...ctx.client.audiences]);
  if (!claims.aud.some((a) => mine.has(a)))
    throw new InvalidRequest('subject_token was not issued for this client (aud)');
  return {
    type,
    user,
    scopes: [...claims.scopes],
    authTime: claims.authTime,
    clientId: claims.clientId,
    act: claims.act,
    mayAct: claims.mayAct,
    expiresAt: new Date(claims.exp * 1000),
  };
}

/**
 * Checks `actor_token`: an access token Tessera issued to the requesting client (its own, from
 * client_credentials, or a user's it obtained) — a token issued to another client proves
 * nothing about who is asking.
 */
export async function verifyActorToken(
  token: string,
  ctx: GrantContext<ExchangeTokenDeps>,
): Promise<ExchangeActor> {
  const { claims } = await accessToken(token, 'actor_token', ctx);
  if (claims.clientId !== ctx.client.id)
    throw new InvalidRequest('actor_token was not issued to this client');
  return { sub: claims.sub };
}

/** One of our access tokens, fully verified, and — if bound — presented with its DPoP key. */
async function accessToken(
  token: string,
  param: 'subject_token' | 'actor_token',
  ctx: GrantContext<ExchangeTokenDeps>,
): Promise<{ claims: IssuedAccessTokenClaims; user: UserProfile | null }> {
  let verified;
  try {
    verified = await verifyIssuedAccessToken(token, accessTokenVerifierDeps(ctx.services));
  } catch (err) {
    if (err instanceof AccessTokenRejected)
      throw new InvalidRequest(`${param} is invalid, expired or revoked`, { cause: err });
    throw err;
  }
  // RFC 9449 §6: a DPoP-bound token is usable only by the holder of its key, here as anywhere.
  const { jkt } = verified.claims;
  if (jkt !== undefined && jkt !== ctx.dpopJkt)
    throw new InvalidRequest(`${param} is DPoP-bound: send a DPoP proof made with its key`);
  return verified;
}

/**
 * An ID token we issued to the requesting client (OIDC Core §2: its `aud` is the client), not
 * expired; its user must still exist and be enabled. ID tokens have no deny-list: their short
 * lifetime bounds them.
 */
async function verifyIdTokenSubject(
  token: string,
  ctx: GrantContext<ExchangeTokenDeps>,
): Promise<ExchangeSubject> {
  const { config, clock, keyStore, users } = ctx.services;
  let payload;
  try {
    ({ payload } = await keyStore.verify(token, {
      typ: 'JWT',
      issuer: config.issuer,
      audience: ctx.client.id,
      clockToleranceSeconds: config.CLOCK_SKEW,
      expToleranceSeconds: ISSUER_EXP_LEEWAY_SECONDS,
      currentDate: clock.now(),
    }));
  } catch (err) {
    if (err instanceof TokenVerificationError)
      throw new InvalidRequest('subject_token is invalid or expired', { cause: err });
    throw err;
  }
  const sub = typeof payload.sub === 'string' ? payload.sub : '';
  const user = sub ? await users.findById(sub) : null;
  if (!user || user.disabled)
    throw new InvalidRequest('subject_token is invalid or expired', {
      cause: new Error('the ID token’s user no longer exists or is disabled'),
    });
  const { passwordHash: _hash, ...profile } = user;
  return {
    type: ID_TOKEN_TYPE,
    user: profile,
    scopes: null,
    authTime: typeof payload.auth_time === 'number' ? payload.auth_time : undefined,
    clientId: ctx.client.id,
    expiresAt: new Date((payload.exp ?? 0) * 1000),
  };
}
