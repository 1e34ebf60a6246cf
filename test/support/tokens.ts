/**
 * Users, clients and tokens for the revocation / introspection / userinfo / logout tests.
 * Real tokens come from the running server's /token; hand-made ones (expired, foreign issuer,
 * foreign key, tampered) are signed here with the server's own key store or a stranger's key.
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createClient, type NewClientInput } from '../../src/admin/clients';
import { createUser } from '../../src/admin/users';
import type { SigningAlg } from '../../src/keys/algorithms';
import type { UserRecord } from '../../src/accounts/user-storage';
import { basic, PASSWORD, type TestClient } from './fixtures';
import type { TestServer } from './server';

export { basic, PASSWORD, type TestClient } from './fixtures';

let seq = 0;

export async function newUser(
  server: TestServer,
  extra: { name?: string } = {},
): Promise<UserRecord> {
  seq += 1;
  return createUser(server.services, {
    email: `user${seq}-${randomUUID().slice(0, 8)}@example.com`,
    password: PASSWORD,
    name: extra.name ?? `User ${seq}`,
    roles: ['reader'],
  });
}

export async function newClient(
  server: TestServer,
  input: Partial<NewClientInput> = {},
): Promise<TestClient> {
  return createClient(server.services, {
    name: 'test app',
    firstParty: true,
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
    ...input,
  });
}

export async function postForm(
  server: TestServer,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
  token_type: string;
  expires_in: number;
}

/** Password login at /token (client_secret_basic). */
export async function login(
  server: TestServer,
  c: TestClient,
  user: UserRecord,
  scope = 'openid profile email offline_access',
): Promise<TokenResponse> {
  const res = await postForm(
    server,
    '/token',
    { grant_type: 'password', username: user.email, password: PASSWORD, scope },
    { authorization: basic(c) },
  );
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenResponse;
}

export async function refresh(
  server: TestServer,
  c: TestClient,
  refreshToken: string,
): Promise<Response> {
  return postForm(
    server,
    '/token',
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { authorization: basic(c) },
  );
}

export async function clientCredentials(
  server: TestServer,
  c: TestClient,
  scope = 'api',
): Promise<TokenResponse> {
  const res = await postForm(
    server,
    '/token',
    { grant_type: 'client_credentials', scope },
    { authorization: basic(c) },
  );
  if (res.status !== 200)
    throw new Error(`client_credentials failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenResponse;
}

export async function introspect(
  server: TestServer,
  caller: TestClient,
  token: string,
  extra: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await postForm(
    server,
    '/introspect',
    { token, ...extra },
    { authorization: basic(caller) },
  );
  if (res.status !== 200)
    throw new Error(`introspection failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

export async function revoke(
  server: TestServer,
  caller: TestClient,
  token: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return postForm(server, '/revoke', { token, ...extra }, { authorization: basic(caller) });
}

/** Access-token claims like the server's, for a user of `c`, valid now; override freely. */
export function accessClaims(
  server: TestServer,
  c: TestClient,
  user: UserRecord,
  overrides: JWTPayload = {},
): JWTPayload {
  const now = server.clock.epochSeconds();
  return {
    iss: server.config.issuer,
    sub: user.id,
    aud: c.client.id,
    client_id: c.client.id,
    scope: 'openid profile email',
    iat: now,
    exp: now + 600,
    jti: randomUUID(),
    auth_time: now,
    ...overrides,
  };
}

/** Signs with the server's own active key (so only the claims decide). */
export function signWithServerKey(
  server: TestServer,
  claims: JWTPayload,
  alg: SigningAlg = 'RS256',
  typ = 'at+jwt',
): Promise<string> {
  return server.services.keyStore.sign(alg, typ, claims);
}

/** Signs with a key the server has never seen, under a kid of our choosing. */
export async function signWithStrangerKey(claims: JWTPayload, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
    .sign(privateKey);
}

/** The same token with one payload claim changed and the original signature kept. */
export function tamper(token: string, change: JWTPayload): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString('utf8')), ...change };
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
