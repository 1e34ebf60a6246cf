/**
 * JWT access tokens per RFC 9068 ("JSON Web Token Profile for OAuth 2.0 Access Tokens").
 *
 * Minting is split so that a grant can store the token's `jti`/`exp` (for revocation with its
 * refresh-token family) inside its transaction and sign only once that committed:
 * `newAccessTokenIdentity` fixes the token's jti and lifetime — the one place its expiry is
 * computed — before anything is stored, `planAccessToken` builds the claims around that
 * identity, `signAccessToken` signs them.
 *
 * Audience (RFC 9068 §3): the client's configured audiences (its resource servers) when it
 * has any; otherwise the client's own id, a per-client default resource indicator. Either way
 * every token names an audience a resource server can pin, and `typ: at+jwt` (§2.1, checked by
 * our verifiers) keeps such a token from being taken for an ID token. A request that names
 * resources (RFC 8707, oauth/resources.ts) gets exactly those as the audience instead.
 *
 * Delegation (RFC 8693 §4.1): a token issued by a token exchange may name its actor in `act`,
 * the current actor outermost and earlier ones nested inside it; its `sub` stays the user's.
 *
 * Sender constraint (RFC 9449 §6.1): a token issued against a DPoP proof carries
 * `cnf: { jkt }`, the proof key's thumbprint; it is then usable only with proofs by that key.
 */
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { KeyStore } from '../keys/key-store';
import type { ClientRecord } from '../clients/client-storage';
import type { SigningAlg } from '../keys/algorithms';
import type { UserRecord } from '../accounts/user-storage';
import { signingAlgFor } from './signing';

export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessTokenInput {
  issuer: string;
  client: ClientRecord;
  /** The resource owner; absent for client_credentials (then `sub` is the client id, §2.2). */
  user?: Pick<UserRecord, 'id' | 'roles'> | undefined;
  /** Granted scopes, in order. */
  scopes: readonly string[];
  /** When the user authenticated (seconds since the epoch); user tokens only. */
  authTime?: number | undefined;
  /** Its jti, issue time and expiry (newAccessTokenIdentity). */
  identity: AccessTokenIdentity;
  defaultAlg: SigningAlg;
  /** RFC 8707: the resources the token is for (its `aud`); absent: the client's default. */
  resources?: readonly string[] | undefined;
  /** The DPoP key thumbprint the token is bound to (RFC 9449 §6.1); none: a bearer token. */
  jkt?: string | undefined;
  /** RFC 8693 §4.1: the acting party, with earlier actors nested. */
  act?: ActorClaim | undefined;
}

/** RFC 8693 §4.1 `act`: who acts (its `sub`), and who acted before it (a nested `act`). */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** An access token's identity and lifetime, fixed once per issuance, before it is stored. */
export interface AccessTokenIdentity {
  jti: string;
  /** Issue time and expiry, seconds since the epoch (`iat`, `exp`). */
  iat: number;
  exp: number;
  /** Lifetime in seconds (the response's `expires_in`). */
  expiresIn: number;
  /** `exp` as stored with a refresh token or an authorization code (to deny it later). */
  expiresAt: Date;
}

export interface PlannedAccessToken {
  alg: SigningAlg;
  claims: JWTPayload & { jti: string; exp: number; iat: number };
  expiresIn: number;
  expiresAt: Date;
}

export function accessTokenAudience(
  client: Pick<ClientRecord, 'id' | 'audiences'>,
): string | string[] {
  if (client.audiences.length === 0) return client.id;
  return client.audiences.length === 1 ? client.audiences[0]! : [...client.audiences];
}

/** RFC 9068 §2.2 / RFC 7519 §4.1.3: a single audience as a string, several as an array. */
function audienceOf(resources: readonly string[]): string | string[] {
  return resources.length === 1 ? resources[0]! : [...resources];
}

/** Lifetime of the client's access tokens in seconds: its own setting, else the default. */
export function accessTokenTtl(
  client: Pick<ClientRecord, 'accessTokenTtl'>,
  defaultTtlSeconds: number,
): number {
  return client.accessTokenTtl ?? defaultTtlSeconds;
}

/** A new jti, and the client's access-token lifetime from `now`. */
export function newAccessTokenIdentity(
  client: Pick<ClientRecord, 'accessTokenTtl'>,
  now: Date,
  defaultTtlSeconds: number,
): AccessTokenIdentity {
  const iat = Math.floor(now.getTime() / 1000);
  const expiresIn = accessTokenTtl(client, defaultTtlSeconds);
  const exp = iat + expiresIn;
  return { jti: randomUUID(), iat, exp, expiresIn, expiresAt: new Date(exp * 1000) };
}

export function planAccessToken(input: AccessTokenInput): PlannedAccessToken {
  const { identity } = input;
  const claims: PlannedAccessToken['claims'] = {
    iss: input.issuer,
    sub: input.user ? input.user.id : input.client.id,
    aud: input.resources?.length ? audienceOf(input.resources) : accessTokenAudience(input.client),
    client_id: input.client.id,
    scope: input.scopes.join(' '),
    iat: identity.iat,
    exp: identity.exp,
    jti: identity.jti,
  };
  if (input.user && input.authTime !== undefined) claims.auth_time = input.authTime;
  // RFC 9068 §2.2.3.1 (roles, from RFC 7643), only when the user has any.
  if (input.user && input.user.roles.length > 0) claims.roles = [...input.user.roles];
  if (input.jkt !== undefined) claims.cnf = { jkt: input.jkt };
  if (input.act !== undefined) claims.act = input.act;
  return {
    alg: signingAlgFor(input.client, input.defaultAlg),
    claims,
    expiresIn: identity.expiresIn,
    expiresAt: identity.expiresAt,
  };
}

export function signAccessToken(
  keyStore: Pick<KeyStore, 'sign'>,
  planned: PlannedAccessToken,
): Promise<string> {
  return keyStore.sign(planned.alg, ACCESS_TOKEN_TYP, planned.claims);
}
