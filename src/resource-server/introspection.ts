/**
 * The optional online check (RFC 7662): asks the issuer's introspection endpoint whether a
 * locally valid token is still active, which catches revoked tokens before they expire.
 * The resource server authenticates as a confidential client with client_secret_basic
 * (RFC 7662 §2.1, RFC 6749 §2.3.1: id and secret are form-urlencoded before base64).
 * Failures close the route (503) rather than let a possibly revoked token through.
 */
import { IssuerUnavailableError, invalidToken } from './errors';
import { fetchJson, type FetchLike } from './http-fetch';
import type { IssuerKeys } from './issuer-keys';

export interface IntrospectionCredentials {
  clientId: string;
  clientSecret: string;
}

export interface IntrospectionResult {
  active: boolean;
  [claim: string]: unknown;
}

export async function introspect(
  token: string,
  keys: IssuerKeys,
  credentials: IntrospectionCredentials,
  options: { fetch?: FetchLike; timeoutMs?: number } = {},
): Promise<IntrospectionResult> {
  const { introspectionEndpoint } = await keys.metadata();
  if (!introspectionEndpoint)
    throw new IssuerUnavailableError('the issuer advertises no introspection endpoint');
  const basic = Buffer.from(
    `${formEncode(credentials.clientId)}:${formEncode(credentials.clientSecret)}`,
  ).toString('base64');
  const res = await fetchJson(
    options.fetch ?? ((i, init) => fetch(i, init)),
    introspectionEndpoint,
    {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      timeoutMs: options.timeoutMs ?? 5000,
      what: 'the introspection response',
    },
  );
  const body = res.body as Partial<IntrospectionResult> | undefined;
  if (
    res.status !== 200 ||
    typeof body !== 'object' ||
    body === null ||
    typeof body.active !== 'boolean'
  ) {
    throw new IssuerUnavailableError(`introspection answered ${res.status}`);
  }
  return body as IntrospectionResult;
}

/** Throws invalid_token when the issuer says the token is no longer active (revoked). */
export async function requireActive(
  token: string,
  keys: IssuerKeys,
  credentials: IntrospectionCredentials,
  fetchFn?: FetchLike,
): Promise<void> {
  const result = await introspect(token, keys, credentials, fetchFn ? { fetch: fetchFn } : {});
  if (!result.active)
    throw invalidToken('inactive', 'the token has been revoked or is no longer active');
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
