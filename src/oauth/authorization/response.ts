/**
 * Authorization responses (RFC 6749 §4.1.2) as redirect URLs. The parameters are added to the
 * registered redirect URI's query, keeping any query it already has (RFC 6749 §3.1.2), and
 * always carry `iss` (RFC 9207 §2) so the client can detect mix-up attacks.
 */
import type { OAuthError } from '../errors';

export function successRedirect(
  redirectUri: string,
  issuer: string,
  code: string,
  state: string | undefined,
): string {
  return withParams(redirectUri, { code, ...(state !== undefined ? { state } : {}), iss: issuer });
}

export function errorRedirect(
  redirectUri: string,
  issuer: string,
  error: OAuthError,
  state: string | undefined,
): string {
  return withParams(redirectUri, {
    error: error.error,
    error_description: error.description,
    ...(state !== undefined ? { state } : {}),
    iss: issuer,
  });
}

/** RP-Initiated Logout §3: back to the relying party with its `state`. */
export function logoutRedirect(uri: string, state: string | undefined): string {
  return state === undefined ? uri : withParams(uri, { state });
}

function withParams(uri: string, params: Record<string, string>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
