/**
 * The shared test fixtures: the one test PASSWORD, users and clients made through the admin
 * module, client_secret_basic credentials, and /token calls for the grant and token tests.
 */
import { randomUUID } from 'node:crypto';
import { createClient, type NewClientInput } from '../../src/admin/clients';
import { createUser, type NewUserInput } from '../../src/admin/users';
import type { ClientRecord } from '../../src/clients/client-storage';
import type { UserRecord } from '../../src/accounts/user-storage';
import type { TestServer } from './server';

export const PASSWORD = 'correct horse battery staple';

export interface TestClient {
  client: ClientRecord;
  secret: string | null;
}

export async function makeUser(
  server: TestServer,
  extra: Partial<NewUserInput> = {},
): Promise<UserRecord> {
  return createUser(server.services, {
    email: `u-${randomUUID().slice(0, 12)}@example.com`,
    password: PASSWORD,
    name: 'Ada Lovelace',
    ...extra,
  });
}

/** A first-party confidential client allowed every grant /token implements. */
export async function makeClient(
  server: TestServer,
  input: Partial<NewClientInput> = {},
): Promise<TestClient> {
  return createClient(server.services, {
    name: 'grant test app',
    firstParty: true,
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scopes: ['openid', 'profile', 'email', 'offline_access', 'api:read', 'api:write'],
    ...input,
  });
}

/**
 * An `Authorization: Basic` value as RFC 6749 §2.3.1 defines it for client_secret_basic: id and
 * secret are form-urlencoded (space as `+`) before base64.
 */
export function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

export function basic(c: TestClient): string {
  return basicAuth(c.client.id, c.secret ?? '');
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs a form (or, with `json`, a JSON object) and reads the JSON reply. */
export async function post(
  server: TestServer,
  path: string,
  params: Record<string, string>,
  options: { headers?: Record<string, string>; json?: boolean; ip?: string } = {},
): Promise<Reply> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
      ...(options.ip ? { 'x-forwarded-for': options.ip } : {}),
      ...options.headers,
    },
    body: options.json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** /token with client_secret_basic. */
export function token(
  server: TestServer,
  c: TestClient,
  params: Record<string, string>,
  options: { ip?: string } = {},
): Promise<Reply> {
  return post(server, '/token', params, { headers: { authorization: basic(c) }, ...options });
}

export function passwordLogin(
  server: TestServer,
  c: TestClient,
  user: Pick<UserRecord, 'email'>,
  extra: Record<string, string> = {},
  options: { ip?: string } = {},
): Promise<Reply> {
  return token(
    server,
    c,
    {
      grant_type: 'password',
      username: user.email,
      password: PASSWORD,
      scope: 'openid profile email offline_access api:read',
      ...extra,
    },
    options,
  );
}

export function decodeJwt(jwt: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [h, p] = jwt.split('.') as [string, string];
  const parse = (s: string) =>
    JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: parse(h), payload: parse(p) };
}
