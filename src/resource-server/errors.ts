/**
 * The one error type of the resource-server toolkit. `error` is the RFC 6750 §3.1 code the
 * middleware puts in `WWW-Authenticate`; `reason` is a stable machine code for tests and the
 * token inspector; the message is the public `error_description` (it never echoes the token).
 */

/**
 * RFC 6750 §3.1 error codes, RFC 9449 §7.1 and §9's for DPoP proofs, plus 503 when the issuer
 * cannot be reached (fail closed).
 */
export type BearerErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'temporarily_unavailable';

/** Why a token was refused; stable across versions. */
export type RejectionReason =
  | 'malformed'
  | 'forbidden_header'
  | 'alg_not_allowed'
  | 'unknown_kid'
  | 'invalid_signature'
  | 'typ_mismatch'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'missing_claim'
  | 'inactive'
  | 'insufficient_scope'
  | 'missing_role'
  | 'issuer_unavailable'
  | 'bad_request'
  /** A DPoP-bound token without the DPoP scheme, or a bearer token with it (RFC 9449 §7.1). */
  | 'dpop_binding'
  /** The DPoP proof is missing, invalid, or made with another key than the token's. */
  | 'dpop_proof'
  /** The DPoP proof lacks the current server nonce (RFC 9449 §9). */
  | 'dpop_nonce';

const STATUS: Record<BearerErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  temporarily_unavailable: 503,
};

export class AccessTokenError extends Error {
  override name = 'AccessTokenError';
  readonly status: number;
  /** The scheme of the challenge to answer with: DPoP for DPoP refusals (RFC 9449 §7.1). */
  readonly scheme: 'Bearer' | 'DPoP';
  /** With use_dpop_nonce: the nonce to send back in `DPoP-Nonce` (RFC 9449 §9). */
  readonly nonce: string | undefined;
  constructor(
    readonly error: BearerErrorCode,
    readonly reason: RejectionReason,
    description: string,
    options: { cause?: unknown; scheme?: 'Bearer' | 'DPoP'; nonce?: string } = {},
  ) {
    super(description, { cause: options.cause });
    this.status = STATUS[error];
    this.scheme = options.scheme ?? 'Bearer';
    this.nonce = options.nonce;
  }
}

/** Shorthand for the common case: the token itself is not acceptable (401). */
export function invalidToken(
  reason: RejectionReason,
  description: string,
  cause?: unknown,
): AccessTokenError {
  return new AccessTokenError('invalid_token', reason, description, { cause });
}

/** Problems reaching or understanding the issuer (discovery, JWKS, introspection). */
export class IssuerUnavailableError extends AccessTokenError {
  constructor(description: string, cause?: unknown) {
    super('temporarily_unavailable', 'issuer_unavailable', description, { cause });
  }
}
