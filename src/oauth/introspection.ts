/**
 * Token introspection (RFC 7662 §2). The caller is an authenticated confidential client;
 * the answer is `{ "active": false }` for anything that is not a live token this server
 * issued — expired, revoked, malformed, tampered, signed by a retired or foreign key, of
 * another issuer, unknown — without saying which (RFC 7662 §2.2: "the authorization server
 * SHOULD NOT include any additional information about an inactive token").
 *
 * Which tokens a caller may see (RFC 7662 §2.1 lets the server restrict this):
 * - access tokens: any authenticated confidential client — resource servers introspect
 *   tokens issued to other clients; an access token is a signed JWT whose claims anyone with
 *   the JWKS can already read, so introspection adds only its revocation and account state;
 * - refresh tokens: only the client they were issued to. They are bearer credentials of that
 *   one client and no resource server needs them; another client's refresh token is reported
 *   `active: false`, exactly like an unknown one.
 */
import type { ClientRecord } from '../clients/client-storage';
import type { RefreshTokenRepository } from '../tokens/refresh-token-storage';
import type { UserRepository } from '../accounts/user-storage';
import { sha256 } from '../shared/crypto';
import {
  AccessTokenRejected,
  verifyIssuedAccessToken,
  type AccessTokenVerifierDeps,
} from '../tokens/verify-issued-access-token';

export type TokenTypeHint = 'access_token' | 'refresh_token';

export interface IntrospectionDeps extends AccessTokenVerifierDeps {
  refreshTokens: Pick<RefreshTokenRepository, 'findByHash'>;
  users: Pick<UserRepository, 'findById'>;
}

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      sub: string;
      exp: number;
      iat: number;
      iss: string;
      aud?: string | string[];
      token_type: 'Bearer' | 'DPoP' | 'refresh_token';
      jti?: string;
      /** RFC 9449 §6.2: the key a DPoP-bound access token is bound to. */
      cnf?: { jkt: string };
    };

const INACTIVE = Object.freeze({ active: false as const });

/** A compact JWS has three dot-separated parts; Tessera's refresh tokens are plain base64url. */
export function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}

export async function introspectToken(
  token: string,
  caller: ClientRecord,
  deps: IntrospectionDeps,
): Promise<IntrospectionResponse> {
  // The two kinds are told apart by their form, so the hint (RFC 7662 §2.1, optional) is not
  // needed to find the token and a wrong hint changes nothing.
  return looksLikeJwt(token)
    ? introspectAccessToken(token, deps)
    : introspectRefreshToken(token, caller, deps);
}

async function introspectAccessToken(
  token: string,
  deps: IntrospectionDeps,
): Promise<IntrospectionResponse> {
  try {
    const { claims } = await verifyIssuedAccessToken(token, deps);
    return {
      active: true,
      scope: claims.scope,
      client_id: claims.clientId,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: claims.aud.length === 1 ? claims.aud[0]! : claims.aud,
      // RFC 7662 §2.2: the type of the token as defined in RFC 6749 §7.1; RFC 9449 §6.2: DPoP
      // and the key's thumbprint for a bound token, so a resource server can check its proofs.
      token_type: claims.jkt === undefined ? 'Bearer' : 'DPoP',
      jti: claims.jti,
      ...(claims.jkt === undefined ? {} : { cnf: { jkt: claims.jkt } }),
    };
  } catch (err) {
    if (err instanceof AccessTokenRejected) return INACTIVE;
    throw err;
  }
}

async function introspectRefreshToken(
  token: string,
  caller: ClientRecord,
  deps: IntrospectionDeps,
): Promise<IntrospectionResponse> {
  if (token.length === 0 || token.length > 512) return INACTIVE;
  const found = await deps.refreshTokens.findByHash(sha256(token));
  if (!found) return INACTIVE;
  const { token: rt, family, user } = found;
  const now = deps.clock.now();
  if (family.clientId !== caller.id) return INACTIVE;
  if (rt.rotatedAt || rt.revokedAt || family.revokedAt) return INACTIVE;
  if (family.expiresAt <= now || rt.idleExpiresAt <= now) return INACTIVE;
  if (!user || user.disabled) return INACTIVE;
  const expiresAt = Math.min(family.expiresAt.getTime(), rt.idleExpiresAt.getTime());
  return {
    active: true,
    scope: rt.scope,
    client_id: family.clientId,
    sub: family.userId,
    exp: Math.floor(expiresAt / 1000),
    iat: Math.floor(rt.createdAt.getTime() / 1000),
    iss: deps.issuer,
    token_type: 'refresh_token',
  };
}
