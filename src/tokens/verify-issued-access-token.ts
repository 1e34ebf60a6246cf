/**
 * Verifies an access token this server issued (RFC 9068) for the endpoints that accept one
 * (userinfo, introspection, revocation, logout):
 *
 * 1. signature, header and times through the key store: `typ` must be `at+jwt` (RFC 9068 §4,
 *    so an ID token cannot be replayed as an access token), `iss` must be our issuer, the
 *    algorithm is pinned to the key named by `kid`, a retired key's tokens fail (its kid is no
 *    longer published); `exp` with no tolerance — Tessera's own clock decides whether its
 *    token has expired (access-token-expiry.ts, RFC 7662 §2.2) — and `nbf` with CLOCK_SKEW
 *    (another party's clock may run ahead of ours);
 * 2. the claims have the shape we mint (zod);
 * 3. the `jti` is not on the deny-list (RFC 7009 §2.2: revoked before its expiry);
 * 4. the client still exists and is enabled, and — for a user's token — the user still
 *    exists and is enabled (a disabled account's tokens stop working at once, not at `exp`).
 *
 * Every failure is an AccessTokenRejected with a `reason` for logs and tests; callers show
 * the client only a generic description (RFC 6750 §3.1 invalid_token).
 */
import { z } from 'zod';
import { TokenVerificationError, type KeyStore } from '../keys/key-store';
import type { ClientRepository } from '../clients/client-storage';
import type { RevokedAccessTokenRepository } from './access-token-storage';
import type { UserProfile, UserRepository } from '../accounts/user-storage';
import type { Clock } from '../shared/clock';
import { ACCESS_TOKEN_TYP, type ActorClaim } from './access-token';
import { ISSUER_EXP_LEEWAY_SECONDS } from './access-token-expiry';
import { splitScope } from '../oauth/scope';

export type AccessTokenRejectionReason =
  | TokenVerificationError['code']
  | 'claims_invalid'
  | 'revoked'
  | 'client_inactive'
  | 'user_inactive';

export class AccessTokenRejected extends Error {
  override name = 'AccessTokenRejected';
  constructor(
    readonly reason: AccessTokenRejectionReason,
    message: string,
  ) {
    super(message);
  }
}

const nonEmpty = z.string().min(1).max(500);

/** RFC 8693 §4.1: an actor, and the actor before it (nested). */
const actorSchema: z.ZodType<ActorClaim> = z.lazy(() =>
  z.object({ sub: nonEmpty, act: actorSchema.optional() }),
);

const claimsSchema = z.object({
  iss: nonEmpty,
  sub: nonEmpty,
  aud: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
  client_id: nonEmpty,
  jti: z.string().min(1).max(200),
  iat: z.number().int(),
  exp: z.number().int(),
  scope: z.string().max(4096).default(''),
  auth_time: z.number().int().optional(),
  roles: z.array(z.string()).optional(),
  // RFC 9449 §6.1: the DPoP key the token is bound to.
  cnf: z.object({ jkt: z.string().min(1).max(100) }).optional(),
  // RFC 8693 §4.1 and §4.4: a token from a token exchange, and who may act for its subject.
  act: actorSchema.optional(),
  may_act: z.object({ sub: nonEmpty }).optional(),
});

export interface IssuedAccessTokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  clientId: string;
  jti: string;
  iat: number;
  exp: number;
  /** Space-separated scope exactly as in the token. */
  scope: string;
  scopes: ReadonlySet<string>;
  authTime?: number;
  roles?: string[];
  /** The DPoP key thumbprint the token is bound to (`cnf.jkt`, RFC 9449 §6.1); absent: bearer. */
  jkt?: string;
  /** RFC 8693 §4.1: the actor of a token issued by a token exchange (earlier ones nested). */
  act?: ActorClaim;
  /** RFC 8693 §4.4: the party the token's subject allows to act for it. */
  mayAct?: { sub: string };
}

export interface VerifiedIssuedAccessToken {
  claims: IssuedAccessTokenClaims;
  /** The resource owner, or null for a client's own token (client_credentials: sub = client_id). */
  user: UserProfile | null;
  kid: string;
}

export interface AccessTokenVerifierDeps {
  keyStore: Pick<KeyStore, 'verify'>;
  revokedAccessTokens: Pick<RevokedAccessTokenRepository, 'isRevoked' | 'isRevokedWithUser'>;
  users: Pick<UserRepository, 'findById'>;
  clients: Pick<ClientRepository, 'findById'>;
  clock: Clock;
  issuer: string;
  clockSkewSeconds: number;
}

/**
 * Steps 1 and 2 only: the token is a well-formed access token this server signed and it has
 * not expired ('expired' from the instant accessTokenDeniedUntil(exp) on). Revocation and
 * account state are not checked (revocation uses this: a client may revoke a token whatever
 * its user's state, and an expired one needs no revocation).
 */
export async function verifyIssuedAccessTokenJwt(
  token: string,
  deps: Pick<AccessTokenVerifierDeps, 'keyStore' | 'clock' | 'issuer' | 'clockSkewSeconds'>,
): Promise<{ claims: IssuedAccessTokenClaims; kid: string }> {
  let verified;
  try {
    verified = await deps.keyStore.verify(token, {
      typ: ACCESS_TOKEN_TYP,
      issuer: deps.issuer,
      clockToleranceSeconds: deps.clockSkewSeconds,
      expToleranceSeconds: ISSUER_EXP_LEEWAY_SECONDS,
      currentDate: deps.clock.now(),
    });
  } catch (err) {
    if (err instanceof TokenVerificationError) throw new AccessTokenRejected(err.code, err.message);
    throw err;
  }
  const parsed = claimsSchema.safeParse(verified.payload);
  if (!parsed.success)
    throw new AccessTokenRejected(
      'claims_invalid',
      'access token claims are not the shape Tessera issues',
    );
  const c = parsed.data;
  const claims: IssuedAccessTokenClaims = {
    iss: c.iss,
    sub: c.sub,
    aud: typeof c.aud === 'string' ? [c.aud] : c.aud,
    clientId: c.client_id,
    jti: c.jti,
    iat: c.iat,
    exp: c.exp,
    scope: c.scope,
    scopes: new Set(splitScope(c.scope)),
    ...(c.auth_time === undefined ? {} : { authTime: c.auth_time }),
    ...(c.roles === undefined ? {} : { roles: c.roles }),
    ...(c.cnf === undefined ? {} : { jkt: c.cnf.jkt }),
    ...(c.act === undefined ? {} : { act: c.act }),
    ...(c.may_act === undefined ? {} : { mayAct: c.may_act }),
  };
  return { claims, kid: verified.kid };
}

/** Verifies `token` fully (steps 1–4); resolves with its claims and user, or rejects with AccessTokenRejected. */
export async function verifyIssuedAccessToken(
  token: string,
  deps: AccessTokenVerifierDeps,
): Promise<VerifiedIssuedAccessToken> {
  const { claims, kid } = await verifyIssuedAccessTokenJwt(token, deps);

  // RFC 9068 §2.2: with no resource owner (client_credentials) `sub` is the client's id.
  const clientToken = isClientToken(claims);
  // Deny-list and user in one round trip (this runs on every introspection and userinfo call).
  const state = clientToken
    ? { revoked: await deps.revokedAccessTokens.isRevoked(claims.jti), user: null }
    : await deps.revokedAccessTokens.isRevokedWithUser(claims.jti, claims.sub);
  if (state.revoked) throw new AccessTokenRejected('revoked', 'access token has been revoked');

  const client = await deps.clients.findById(claims.clientId);
  if (!client || client.disabled)
    throw new AccessTokenRejected(
      'client_inactive',
      'the client of this token no longer exists or is disabled',
    );

  if (clientToken) return { claims, user: null, kid };
  const user = state.user;
  if (!user || user.disabled)
    throw new AccessTokenRejected(
      'user_inactive',
      'the user of this token no longer exists or is disabled',
    );
  return { claims, user, kid };
}

/** A token a client obtained for itself (no user): `sub` equals `client_id` and no `auth_time`. */
export function isClientToken(
  claims: Pick<IssuedAccessTokenClaims, 'sub' | 'clientId' | 'authTime'>,
): boolean {
  return claims.sub === claims.clientId && claims.authTime === undefined;
}

/** The services-shaped dependencies, for callers holding `Services`. */
export function accessTokenVerifierDeps(s: {
  keyStore: KeyStore;
  revokedAccessTokens: RevokedAccessTokenRepository;
  users: UserRepository;
  /** The cached look-up: a disabled client's tokens stop working within its TTL (seconds). */
  clientLookup: Pick<ClientRepository, 'findById'>;
  clock: Clock;
  config: { issuer: string; CLOCK_SKEW: number };
}): AccessTokenVerifierDeps {
  return {
    keyStore: s.keyStore,
    revokedAccessTokens: s.revokedAccessTokens,
    users: s.users,
    clients: s.clientLookup,
    clock: s.clock,
    issuer: s.config.issuer,
    clockSkewSeconds: s.config.CLOCK_SKEW,
  };
}
