/**
 * Verification of an RFC 9068 JWT access token, independent of any web framework (the Koa
 * middleware and the token inspector both use it). Every check cites where it comes from; the
 * order puts the cheap, key-independent refusals first so that garbage never reaches the
 * issuer (no JWKS refetch for a token that could never verify anyway).
 */
import {
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import type { AccessTokenError } from './errors';
import { invalidToken } from './errors';
import type { AccessTokenAlg, IssuerKeys } from './issuer-keys';

/** RFC 9068 §2.2: the claims a Tessera access token carries. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  /** Space-separated (RFC 9068 §2.2.3, RFC 6749 §3.3). */
  scope?: string;
  /** RFC 9068 §2.2.3.1 (SCIM roles). */
  roles?: string[];
  /** RFC 9449 §6.1: the DPoP key the token is bound to (RFC 7638 thumbprint). */
  cnf?: { jkt: string };
}

export interface VerifiedAccessToken {
  claims: AccessTokenClaims;
  scopes: string[];
  roles: string[];
  alg: AccessTokenAlg;
  kid: string;
}

export interface VerifyAccessTokenOptions {
  issuer: string;
  /**
   * This resource server's identifier; the token's `aud` must contain it (RFC 9068 §4).
   * `null` skips the check and is meant only for the token inspector, which reports it.
   */
  audience: string | readonly string[] | null;
  /** Allowed clock skew for exp/nbf/iat, 0–60 s (default 30). */
  clockToleranceSeconds?: number;
  /** Required `typ` header (default `at+jwt`, RFC 9068 §4). */
  typ?: string;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
export const MAX_CLOCK_TOLERANCE_SECONDS = 60;
/** Larger than any token Tessera mints; bounds the work an attacker can make us do. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];

/**
 * Header parameters that would let a token choose its own key (jku, x5u, jwk, x5c — RFC 8725
 * §3.10) or demand extensions we do not implement (crit — RFC 7515 §4.1.11 says a recipient
 * that does not understand a listed extension MUST reject the token; we understand none).
 */
export const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit', 'b64'] as const;

export async function verifyAccessToken(
  token: string,
  keys: IssuerKeys,
  options: VerifyAccessTokenOptions,
): Promise<VerifiedAccessToken> {
  const tolerance = checkTolerance(
    options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
  );
  const now = options.now?.() ?? Date.now();
  if (
    token.length > MAX_TOKEN_LENGTH ||
    !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)
  ) {
    throw invalidToken('malformed', 'the token is not a signed JWT');
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw invalidToken('malformed', 'the token header cannot be decoded', err);
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header)
      throw invalidToken(
        'forbidden_header',
        `the token header carries "${name}", which is never accepted`,
      );
  }
  // RFC 8725 §3.1-3.2: the algorithm comes from our allow-list (the issuer's advertised
  // asymmetric algorithms) and from the key; "none" and HS* (key confusion) never pass.
  const allowed = await keys.algorithms();
  if (typeof header.alg !== 'string' || !allowed.includes(header.alg as AccessTokenAlg)) {
    throw invalidToken(
      'alg_not_allowed',
      `the token algorithm ${describe(header.alg)} is not accepted (allowed: ${allowed.join(', ')})`,
    );
  }
  // RFC 9068 §4: the typ header must be at+jwt, so an ID token cannot pass as an access token.
  const expectedTyp = options.typ ?? 'at+jwt';
  if (typeof header.typ !== 'string' || normaliseTyp(header.typ) !== normaliseTyp(expectedTyp)) {
    throw invalidToken(
      'typ_mismatch',
      `the token type is ${describe(header.typ)}, expected ${expectedTyp}`,
    );
  }
  if (typeof header.kid !== 'string' || !header.kid)
    throw invalidToken('unknown_kid', 'the token header names no key (kid)');
  const key = await keys.key(header.kid);
  if (header.alg !== key.alg)
    throw invalidToken(
      'alg_not_allowed',
      `the token algorithm ${header.alg} does not match its key (${key.alg})`,
    );

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: options.issuer,
      ...(options.audience === null
        ? {}
        : {
            audience:
              typeof options.audience === 'string' ? options.audience : [...options.audience],
          }),
      clockTolerance: tolerance,
      currentDate: new Date(now),
      requiredClaims: REQUIRED_CLAIMS,
    }));
  } catch (err) {
    throw mapJoseError(err);
  }
  // jose does not refuse a future iat; a token "issued" later than now is forged or from a
  // badly skewed issuer (RFC 7519 §4.1.6, RFC 9068 §4 lets us reject it).
  if (typeof payload.iat !== 'number' || payload.iat > now / 1000 + tolerance)
    throw invalidToken('issued_in_future', 'the token was issued in the future');
  const claims = checkClaimTypes(payload);
  return {
    claims,
    scopes: claims.scope ? claims.scope.split(' ').filter(Boolean) : [],
    roles: claims.roles ?? [],
    alg: key.alg,
    kid: key.kid,
  };
}

function checkClaimTypes(payload: JWTPayload): AccessTokenClaims {
  for (const name of ['sub', 'jti', 'client_id'] as const) {
    if (typeof payload[name] !== 'string' || !payload[name])
      throw invalidToken('missing_claim', `the token claim "${name}" is missing or not a string`);
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string')
    throw invalidToken('missing_claim', 'the token claim "scope" is not a string');
  const roles = payload.roles;
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
    throw invalidToken('missing_claim', 'the token claim "roles" is not a list of strings');
  }
  // RFC 7800 §3.1 / RFC 9449 §6.1: a confirmation this verifier cannot check is refused, never
  // ignored (ignoring it would accept a sender-constrained token from anyone).
  const cnf = payload.cnf as Record<string, unknown> | undefined;
  if (
    cnf !== undefined &&
    !(typeof cnf === 'object' && cnf !== null && typeof cnf.jkt === 'string')
  )
    throw invalidToken('missing_claim', 'the token claim "cnf" carries no DPoP key (jkt)');
  return payload as AccessTokenClaims;
}

function mapJoseError(err: unknown): AccessTokenError {
  if (err instanceof errors.JWTExpired)
    return invalidToken('expired', 'the token has expired', err);
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return invalidToken('invalid_signature', 'the token signature is invalid', err);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing')
      return invalidToken('missing_claim', `the token has no "${err.claim}" claim`, err);
    if (err.claim === 'iss')
      return invalidToken('issuer_mismatch', 'the token was issued by a different issuer', err);
    if (err.claim === 'aud')
      return invalidToken('audience_mismatch', 'the token is not meant for this audience', err);
    if (err.claim === 'nbf')
      return invalidToken('not_yet_valid', 'the token is not valid yet (nbf)', err);
    if (err.claim === 'iat')
      return invalidToken('issued_in_future', 'the token iat is invalid', err);
    return invalidToken('missing_claim', `the token claim "${err.claim}" is invalid`, err);
  }
  return invalidToken('malformed', 'the token cannot be verified', err);
}

/** RFC 8725 §3.11: compare media types case-insensitively, with or without "application/". */
export function normaliseTyp(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
}

function checkTolerance(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_CLOCK_TOLERANCE_SECONDS) {
    throw new RangeError(
      `clockToleranceSeconds must be between 0 and ${MAX_CLOCK_TOLERANCE_SECONDS}`,
    );
  }
  return seconds;
}

function describe(value: unknown): string {
  return typeof value === 'string'
    ? value.replace(/[^\x20-\x7e]|["\\]/g, '').slice(0, 32)
    : 'missing';
}
