/**
 * OAuthError and its RFC subclasses. Each carries the RFC `error` code, an HTTP status, a
 * description that is safe to show the client, optional response headers, and a private
 * `cause` that is logged but never sent. The error middleware (src/http/middleware/errors.ts)
 * is the only place these become responses.
 */
export interface OAuthErrorOptions {
  /** Internal detail for the logs; never reaches the client. */
  cause?: unknown;
  headers?: Record<string, string>;
}

export class OAuthError extends Error {
  /** Koa reads `expose` and `status`; the description is always safe to show. */
  readonly expose = true;
  readonly headers: Record<string, string>;

  constructor(
    readonly error: string,
    readonly status: number,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.headers = options.headers ?? {};
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

const kind = (error: string, status: number) =>
  class extends OAuthError {
    static readonly code = error;
    constructor(description: string, options?: OAuthErrorOptions) {
      super(error, status, description, options);
    }
  };

/** RFC 6749 §5.2 and friends. */
export const InvalidRequest = kind('invalid_request', 400);
export const InvalidClient = kind('invalid_client', 401);
export const InvalidGrant = kind('invalid_grant', 400);
export const UnauthorizedClient = kind('unauthorized_client', 400);
export const UnsupportedGrantType = kind('unsupported_grant_type', 400);
export const InvalidScope = kind('invalid_scope', 400);
export const AccessDenied = kind('access_denied', 403);
export const UnsupportedResponseType = kind('unsupported_response_type', 400);
/** RFC 7009 §2.2.1 */
export const UnsupportedTokenType = kind('unsupported_token_type', 400);
/** RFC 6750 §3.1 */
export const InvalidToken = kind('invalid_token', 401);
export const InsufficientScope = kind('insufficient_scope', 403);
/** RFC 9449 §5 and §12.2: a missing, malformed or unacceptable DPoP proof at the token endpoint. */
export const InvalidDpopProof = kind('invalid_dpop_proof', 400);
/** RFC 9449 §8: the proof must carry the nonce sent in the DPoP-Nonce header. */
export const UseDpopNonce = kind('use_dpop_nonce', 400);
/** OIDC Core §3.1.2.6 */
export const LoginRequired = kind('login_required', 400);
export const ConsentRequired = kind('consent_required', 400);
export const InteractionRequired = kind('interaction_required', 400);
export const RequestNotSupported = kind('request_not_supported', 400);
export const RequestUriNotSupported = kind('request_uri_not_supported', 400);
/** RFC 9101 §7 / RFC 9126 §4: a request_uri that is unknown, expired or used. */
export const InvalidRequestUri = kind('invalid_request_uri', 400);
/** RFC 9101 §7: a request object that does not verify. */
export const InvalidRequestObject = kind('invalid_request_object', 400);
/** RFC 7591 §3.2.2: registration errors. */
export const InvalidClientMetadata = kind('invalid_client_metadata', 400);
export const InvalidRedirectUri = kind('invalid_redirect_uri', 400);
/** RFC 8707 §2: a `resource` that is not an absolute URI, not registered, or not granted. */
export const InvalidTarget = kind('invalid_target', 400);
/**
 * RFC 8628 §3.5: the device_code grant's answers while the user has not approved — still
 * waiting, polling too fast, the user said no, the code expired. All 400 (RFC 6749 §5.2).
 */
export const AuthorizationPending = kind('authorization_pending', 400);
export const SlowDown = kind('slow_down', 400);
export const DeviceAccessDenied = kind('access_denied', 400);
export const ExpiredToken = kind('expired_token', 400);
/**
 * Password logins refused while the account or IP is backed off: invalid_grant, the RFC 6749
 * §5.2 code for resource owner credentials the token endpoint will not accept, with 429 and
 * Retry-After telling the client when to try again. (slow_down belongs to the device flow,
 * RFC 8628 §3.5, and token endpoint clients do not expect it.)
 */
export const TooManyAttempts = kind('invalid_grant', 429);
export const NotFound = kind('not_found', 404);
export const MethodNotAllowed = kind('method_not_allowed', 405);
export const PayloadTooLarge = kind('invalid_request', 413);
export const UnsupportedMediaType = kind('invalid_request', 415);
/** RFC 6749 §4.1.2.1: the server is temporarily unable to handle the request (database down). */
export const TemporarilyUnavailable = kind('temporarily_unavailable', 503);
export const ServerError = kind('server_error', 500);
/**
 * The client hung up before its request was read (nginx's 499 "client closed request"). No
 * one receives this answer; it exists so metrics and logs count the abort as the client's,
 * not as a failure of the server or its database.
 */
export const ClientClosedRequest = kind('client_closed_request', 499);
