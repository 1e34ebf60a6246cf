/**
 * Bearer-token requests (RFC 6750): reading the token from a request and the errors that
 * carry a `WWW-Authenticate: Bearer` challenge (§3). Used by /userinfo and /logout.
 */
import { InsufficientScope, InvalidRequest, InvalidToken, type OAuthError } from './errors';

export const BEARER_REALM = 'tessera';

/** §3: error_description is restricted to %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash). */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ');
}

/** A challenge of `scheme` with quoted parameters (RFC 9110 §11.6.1), e.g. DPoP's (RFC 9449 §7.1). */
export function challengeOf(scheme: string, params: Record<string, string>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}="${quotable(v)}"`);
  return `${scheme} ${parts.join(', ')}`;
}

export function bearerChallenge(
  error?: string,
  description?: string,
  extra: Record<string, string> = {},
): string {
  const parts = [`realm="${BEARER_REALM}"`];
  if (error) parts.push(`error="${error}"`);
  if (error && description) parts.push(`error_description="${quotable(description)}"`);
  for (const [k, v] of Object.entries(extra)) parts.push(`${k}="${quotable(v)}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** 401 invalid_token; the description is generic on purpose (the reason is logged, not sent). */
export function invalidTokenError(description: string, cause?: unknown): OAuthError {
  return new InvalidToken(description, {
    cause,
    headers: { 'WWW-Authenticate': bearerChallenge('invalid_token', description) },
  });
}

/**
 * §3.1: a request without any authentication gets a bare challenge with no error code. The
 * JSON body still names invalid_token so that every 4xx has an RFC-style body.
 */
export function missingTokenError(): OAuthError {
  return new InvalidToken('An access token is required (Authorization: Bearer)', {
    headers: { 'WWW-Authenticate': bearerChallenge() },
  });
}

export function bearerInvalidRequest(description: string): OAuthError {
  return new InvalidRequest(description, {
    headers: { 'WWW-Authenticate': bearerChallenge('invalid_request', description) },
  });
}

export function insufficientScopeError(scope: string): OAuthError {
  const description = `The access token lacks the ${scope} scope`;
  return new InsufficientScope(description, {
    headers: { 'WWW-Authenticate': bearerChallenge('insufficient_scope', description, { scope }) },
  });
}

export interface BearerSources {
  authorization: string | undefined;
  /** Form body parameters (POST, application/x-www-form-urlencoded), when the endpoint allows §2.2. */
  body?: Readonly<Record<string, string>> | undefined;
  /** The raw query string: §2.3 (URI query) is refused, since URLs end up in logs and Referers. */
  query?: URLSearchParams | undefined;
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The bearer token of a request, from exactly one of header (§2.1) or form body (§2.2). */
export function extractBearerToken(src: BearerSources): string {
  if (src.query?.has('access_token'))
    throw bearerInvalidRequest(
      'access_token must not be sent in the query string (RFC 6750 section 2.3); use the Authorization header',
    );
  const header = src.authorization?.trim() ? src.authorization : undefined;
  const fromBody = src.body?.access_token;
  if (header !== undefined && fromBody !== undefined) {
    // §2: "Clients MUST NOT use more than one method to transmit the token in each request."
    throw bearerInvalidRequest(
      'Send the access token in the Authorization header or the body, not both',
    );
  }
  if (header !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) {
      if (/^Bearer\b/i.test(header)) throw bearerInvalidRequest('Malformed Bearer credentials');
      // Another scheme (Basic, …): as if no bearer token had been sent.
      throw missingTokenError();
    }
    if (!B64TOKEN.test(match[1]!)) throw bearerInvalidRequest('Malformed Bearer credentials');
    return match[1]!;
  }
  if (fromBody !== undefined) {
    if (fromBody === '' || fromBody.length > 8192)
      throw bearerInvalidRequest('Malformed access_token parameter');
    return fromBody;
  }
  throw missingTokenError();
}
