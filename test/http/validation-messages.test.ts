/**
 * Validation errors at the HTTP edge name the parameter as the client sent it and say what is
 * wrong with it (`token is required`, `grant_type must be a string`), never zod's own wording
 * (`Invalid input: expected string, received undefined`); a grant_type that is not a string is
 * invalid_request, not unsupported_grant_type.
 */
import { startTestServer, type TestServer } from '../support/server';
import { basic, makeClient, type TestClient } from '../support/fixtures';
import {
  authorizeUrl,
  codeRequest,
  makeClient as makeFlowClient,
  pkcePair,
  type FlowClient,
} from '../support/code-flow';

let server: TestServer;
let app: TestClient;
let rp: FlowClient;
beforeAll(async () => {
  server = await startTestServer();
  app = await makeClient(server, {
    grantTypes: ['password', 'refresh_token', 'client_credentials', 'authorization_code'],
    redirectUris: ['https://app.example/cb'],
  });
  rp = await makeFlowClient(server);
});
afterAll(async () => {
  await server?.stop();
});

type Body = { form: Record<string, string> } | { json: Record<string, unknown> } | { raw: string };

async function send(
  path: string,
  body: Body,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const [type, payload] =
    'form' in body
      ? ['application/x-www-form-urlencoded', new URLSearchParams(body.form).toString()]
      : 'json' in body
        ? ['application/json', JSON.stringify(body.json)]
        : ['application/x-www-form-urlencoded', body.raw];
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': type, authorization: basic(app) },
    body: payload,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.each<[string, string, Body, string]>([
  // grant_type itself
  [
    '/token',
    'no grant_type (form)',
    { form: { username: 'a@b.example' } },
    'grant_type is required',
  ],
  ['/token', 'an empty grant_type (form)', { form: { grant_type: '' } }, 'grant_type is required'],
  [
    '/token',
    'grant_type as a JSON number',
    { json: { grant_type: 5 } },
    'grant_type must be a string',
  ],
  [
    '/token',
    'grant_type as a JSON boolean',
    { json: { grant_type: true } },
    'grant_type must be a string',
  ],
  [
    '/token',
    'grant_type as a JSON array',
    { json: { grant_type: ['password'] } },
    'grant_type must be a string',
  ],
  // each grant's own parameters
  [
    '/token',
    'password: no username',
    { form: { grant_type: 'password', password: 'x' } },
    'username is required',
  ],
  [
    '/token',
    'password: an empty username',
    { form: { grant_type: 'password', username: '', password: 'x' } },
    'username is required',
  ],
  [
    '/token',
    'password: no password',
    { form: { grant_type: 'password', username: 'a@b.example' } },
    'password is required',
  ],
  [
    '/token',
    'password: a numeric password (JSON)',
    { json: { grant_type: 'password', username: 'a@b.example', password: 1234 } },
    'password must be a string',
  ],
  [
    '/token',
    'password: a username too long',
    { form: { grant_type: 'password', username: 'a'.repeat(255), password: 'x' } },
    'username must be at most 254 characters',
  ],
  [
    '/token',
    'refresh_token: no refresh_token',
    { form: { grant_type: 'refresh_token' } },
    'refresh_token is required',
  ],
  [
    '/token',
    'authorization_code: no code',
    { form: { grant_type: 'authorization_code', redirect_uri: 'https://app.example/cb' } },
    'code is required',
  ],
  [
    '/token',
    'authorization_code: no redirect_uri',
    { form: { grant_type: 'authorization_code', code: 'c' } },
    'redirect_uri is required',
  ],
  ['/refresh', 'no refresh_token', { form: {} }, 'refresh_token is required'],
  [
    '/refresh',
    'refresh_token as a JSON number',
    { json: { refresh_token: 42 } },
    'refresh_token must be a string',
  ],
  // revocation and introspection
  ['/revoke', 'no token', { form: {} }, 'token is required'],
  ['/revoke', 'an empty token', { form: { token: '' } }, 'token is required'],
  [
    '/revoke',
    'logout_all=maybe',
    { form: { token: 't', logout_all: 'maybe' } },
    'logout_all must be true or false',
  ],
  [
    '/revoke',
    'a token too long',
    { form: { token: 't'.repeat(8193) } },
    'token must be at most 8192 characters',
  ],
  ['/introspect', 'no token', { form: {} }, 'token is required'],
  [
    '/introspect',
    'a token_type_hint too long',
    { form: { token: 't', token_type_hint: 'h'.repeat(101) } },
    'token_type_hint must be at most 100 characters',
  ],
])('%s with %s', (path, _name, body, description) => {
  it(`is 400 invalid_request "${description}"`, async () => {
    const res = await send(path, body);
    expect(res).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: description },
    });
  });
});

describe('/authorize names the parameter too', () => {
  it.each([
    ['a non-numeric max_age', { max_age: 'soon' }, 'max_age must be a non-negative integer'],
    ['a nonce too long', { nonce: 'n'.repeat(501) }, 'nonce must be at most 500 characters'],
  ])('%s', async (_name, extra, description) => {
    const res = await fetch(authorizeUrl(server, codeRequest(rp.client, pkcePair(), extra)), {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toBe(description);
  });
});
