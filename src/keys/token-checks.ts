/**
 * The checks KeyStore.verify makes around jose: the refusals jose does not make the way this
 * server promises (canonical encoding, forbidden headers, typ before the signature) and the one
 * error code table that turns jose's error classes into TokenVerificationError codes.
 */
import { errors, type JWTHeaderParameters, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { FORBIDDEN_HEADERS } from '../resource-server/verify';

/** Why a token failed verification; `code` is stable for tests and the token inspector. */
export class TokenVerificationError extends Error {
  override name = 'TokenVerificationError';
  constructor(
    readonly code:
      | 'malformed'
      | 'unknown_kid'
      | 'alg_mismatch'
      | 'forbidden_header'
      | 'invalid_signature'
      | 'expired'
      | 'claim_invalid'
      | 'typ_mismatch',
    message: string,
  ) {
    super(message);
  }
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const COMPACT_JWS = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/**
 * Three segments of canonical, unpadded base64url (RFC 7515 §2, §7.1), else 'malformed'. jose's
 * decoder also takes padding, whitespace and non-zero unused bits, which would give one token
 * several spellings that all verify.
 */
export function checkCompactShape(token: unknown): asserts token is string {
  if (
    typeof token !== 'string' ||
    !COMPACT_JWS.test(token) ||
    !token.split('.').every(isCanonical)
  ) {
    throw new TokenVerificationError('malformed', 'token is not a JWS compact serialization');
  }
}

function isCanonical(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  // The last character carries 4 (rest 2) or 2 (rest 3) unused bits, which must be zero.
  return (BASE64URL.indexOf(segment.at(-1)!) & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/**
 * Tokens naming their own key (jku, x5u, jwk, x5c — RFC 8725 §3.10) or carrying crit or b64
 * (RFC 7515 §4.1.11, RFC 7797: extensions we do not implement) are refused, whatever their
 * signature: the list the resource-server toolkit refuses.
 */
export function checkForbiddenHeaders(header: JWTHeaderParameters): void {
  for (const h of FORBIDDEN_HEADERS) {
    if (h in header)
      throw new TokenVerificationError('forbidden_header', `token header carries "${h}"`);
  }
}

/** RFC 8725 §3.11: `typ` compared case-insensitively, with or without "application/". */
export function checkTyp(header: JWTHeaderParameters, typ: string): void {
  const norm = (t: string) => t.toLowerCase().replace(/^application\//, '');
  if (typeof header.typ !== 'string' || norm(header.typ) !== norm(typ)) {
    throw new TokenVerificationError(
      'typ_mismatch',
      `token typ is ${String(header.typ)}, expected ${typ}`,
    );
  }
}

/** jose's error classes as TokenVerificationError codes; anything that is not jose's is rethrown. */
export function fromJose(err: unknown): never {
  if (err instanceof TokenVerificationError) throw err;
  if (err instanceof errors.JWTExpired)
    throw new TokenVerificationError('expired', 'token has expired');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    throw new TokenVerificationError('invalid_signature', 'signature verification failed');
  if (err instanceof errors.JWTClaimValidationFailed)
    throw new TokenVerificationError('claim_invalid', err.message);
  if (err instanceof errors.JOSEAlgNotAllowed)
    throw new TokenVerificationError('alg_mismatch', err.message);
  // JWSInvalid, JWTInvalid, and the TypeErrors of decoding and of invalid options.
  if (err instanceof errors.JOSEError || err instanceof TypeError)
    throw new TokenVerificationError('malformed', err.message);
  throw err;
}

/** What a verification asks of the claims. */
export interface ClaimOptions {
  issuer: string;
  audience?: string | string[];
  /** Tolerance for `nbf` and, unless expToleranceSeconds is given, `exp` (jose's clockTolerance). */
  clockToleranceSeconds: number;
  /**
   * Tolerance for `exp` alone, when it must be smaller (0 for the issuer's own access tokens:
   * tokens/access-token-expiry.ts); `exp` gets the smaller of the two.
   */
  expToleranceSeconds?: number;
}

/** What KeyStore.verify asks of a token. */
export interface VerifyOptions extends ClaimOptions {
  /** Required `typ` header (e.g. `at+jwt`, `JWT`); compared case-insensitively per RFC 8725. */
  typ: string;
  /** Verify as of this time (defaults to the store's clock). */
  currentDate?: Date;
}

/** A token KeyStore.verify accepted: its frozen payload and header, and the key's kid. */
export interface VerifiedJwt {
  payload: JWTPayload;
  header: JWTHeaderParameters;
  kid: string;
}

/** jose's claim options for `options` (RFC 7519 §4.1): iss, optional aud, exp and iat required. */
export function claimOptions(options: ClaimOptions, currentDate: Date): JWTVerifyOptions {
  return {
    issuer: options.issuer,
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    clockTolerance: options.clockToleranceSeconds,
    currentDate,
    requiredClaims: ['exp', 'iat'],
  };
}

/**
 * jose checked `exp` with the clock tolerance; the issuer's own tokens get expToleranceSeconds
 * (none): expired once exp <= now - expToleranceSeconds (tokens/access-token-expiry.ts).
 */
export function checkExp(
  payload: JWTPayload,
  options: Pick<ClaimOptions, 'expToleranceSeconds'>,
  currentDate: Date,
): void {
  const tolerance = options.expToleranceSeconds;
  if (tolerance === undefined) return;
  if (!Number.isFinite(tolerance) || tolerance < 0)
    throw new TypeError('Invalid expToleranceSeconds option input');
  if (payload.exp! <= Math.floor(currentDate.getTime() / 1000) - tolerance)
    throw new TokenVerificationError('expired', 'token has expired');
}
