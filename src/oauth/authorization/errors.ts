/**
 * The two ways an authorization request fails (RFC 6749 §4.1.2.1):
 * - when the client or its redirect URI cannot be trusted, the user sees an error page and is
 *   never redirected (otherwise /authorize would be an open redirector, RFC 9700 §4.11);
 * - every other error goes back to the client's (verified) redirect URI.
 */
import type { OAuthError } from '../errors';

/**
 * Shown to the user as a page; `status` is the HTTP status of that page. `forClient` says the
 * same to a program (an error_description naming the parameter), where a client asked directly
 * (the pushed authorization request endpoint).
 */
export class AuthorizationPageError extends Error {
  override name = 'AuthorizationPageError';
  constructor(
    readonly title: string,
    readonly detail: string,
    readonly status = 400,
    readonly forClient = detail,
  ) {
    super(detail);
  }
}

/** Sent to the client's redirect URI as `error`, `error_description`, `state`, `iss`. */
export class AuthorizationRedirectError extends Error {
  override name = 'AuthorizationRedirectError';
  constructor(
    readonly redirectUri: string,
    readonly state: string | undefined,
    readonly error: OAuthError,
  ) {
    super(error.description);
  }
}
