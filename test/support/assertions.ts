/**
 * Client authentication assertions (RFC 7523) made by hand for the negative tests: every claim
 * and header may be overridden or removed (`undefined`), and the time is the server's clock.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/oauth/client-auth/client-assertion';
import type { Reply } from './fixtures';
import type { TestServer } from './server';

export interface AssertionOptions {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

/** A signed assertion from `clientId` for `server`, valid for 60 s from the server's now. */
export async function signAssertion(
  server: TestServer,
  clientId: string,
  key: CryptoKey | Uint8Array,
  alg: string,
  options: AssertionOptions = {},
): Promise<string> {
  const now = server.clock.epochSeconds();
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: server.config.issuer,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg, ...options.header }).sign(key);
}

/** An unsecured JWT (`alg: none`), which must never authenticate anyone. */
export function unsignedAssertion(server: TestServer, clientId: string): string {
  const now = server.clock.epochSeconds();
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({
    iss: clientId,
    sub: clientId,
    aud: server.config.issuer,
    jti: randomUUID(),
    exp: now + 60,
  })}.`;
}

/**
 * POSTs `params` to `path` authenticated by `assertion` (client_assertion in the body); an
 * empty answer (a successful /revoke) reads as `{}`.
 */
export async function postWithAssertion(
  server: TestServer,
  path: string,
  assertion: string,
  params: Record<string, string>,
  extra: { headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra.headers },
    body: new URLSearchParams({
      ...params,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    }).toString(),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}
