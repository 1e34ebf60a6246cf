/**
 * Pushed authorization requests (RFC 9126) driven by two certified relying-party libraries,
 * openid-client v6 (confidential client) and oauth4webapi (public client), and by hand for
 * each refusal: a request_uri is single use, short-lived and bound to the client that pushed
 * it; the parameters in the URL are ignored; a client or server that requires PAR refuses
 * direct requests.
 */
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { createClientFromMetadata } from '../../../src/admin/clients';
import type { UserRecord } from '../../../src/accounts/user-storage';
import {
  authorizeUrl,
  codeRequest,
  exchangeCode,
  HttpBrowser,
  makeClient,
  makeUser,
  pkcePair,
  readPage,
  REDIRECT,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import { basic } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

async function push(
  client: FlowClient,
  params: Record<string, string | undefined>,
  auth: 'basic' | 'none' = client.secret ? 'basic' : 'none',
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) form.set(k, v);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth === 'basic') headers.authorization = basic(client);
  const res = await fetch(`${server.url}/par`, { method: 'POST', headers, body: form.toString() });
  return { status: res.status, headers: res.headers, body: (await res.json()) as never };
}

/** Pushes a valid code request for `client` and returns its request_uri. */
async function pushed(client: FlowClient, extra: Record<string, string | undefined> = {}) {
  const pkce = pkcePair();
  const reply = await push(client, codeRequest(client.client, pkce, extra));
  expect(reply.status).toBe(201);
  return { requestUri: reply.body.request_uri as string, pkce };
}

it('openid-client: a confidential client pushes its request and completes the code flow', async () => {
  const config = await oidc.discovery(
    new URL(server.config.issuer),
    rp.client.id,
    rp.secret!,
    undefined,
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  expect(config.serverMetadata().pushed_authorization_request_endpoint).toBe(`${server.url}/par`);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  // RFC 9126 §4: the browser carries only client_id and request_uri.
  expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  const callback = await signIn(new HttpBrowser(), server, url.toString(), user.email);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  expect(tokens.claims()?.sub).toBe(user.id);
  expect(tokens.scope).toBe('openid email');
});

it('oauth4webapi: a public client pushes with client_id alone and PKCE', async () => {
  const publicApp = await makeClient(server, { isPublic: true });
  const as = await oauth.processDiscoveryResponse(
    new URL(server.config.issuer),
    await oauth.discoveryRequest(new URL(server.config.issuer), {
      [oauth.allowInsecureRequests]: true,
    }),
  );
  const client: oauth.Client = { client_id: publicApp.client.id };
  const verifier = oauth.generateRandomCodeVerifier();
  const params = new URLSearchParams({
    redirect_uri: REDIRECT,
    scope: 'openid',
    response_type: 'code',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce: 'n-1',
  });
  const response = await oauth.pushedAuthorizationRequest(as, client, oauth.None(), params, {
    [oauth.allowInsecureRequests]: true,
  });
  const { request_uri, expires_in } = await oauth.processPushedAuthorizationResponse(
    as,
    client,
    response,
  );
  expect(request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
  expect(expires_in).toBe(60);
  const url = authorizeUrl(server, { client_id: publicApp.client.id, request_uri });
  const callback = await signIn(new HttpBrowser(), server, url, user.email);
  const callbackParams = oauth.validateAuthResponse(as, client, callback);
  const tokenResponse = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    callbackParams,
    REDIRECT,
    verifier,
    { [oauth.allowInsecureRequests]: true },
  );
  const result = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse, {
    expectedNonce: 'n-1',
  });
  expect(result.access_token).toBeDefined();
});

it('answers 201 with no-store, and keeps no client credentials with the request', async () => {
  const pkce = pkcePair();
  const form = new URLSearchParams({
    ...(codeRequest(rp.client, pkce) as Record<string, string>),
    client_secret: rp.secret!,
  });
  const res = await fetch(`${server.url}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  expect(res.status).toBe(201);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { request_uri: string };
  const rows = await server.database.db.prisma.pushedAuthorizationRequest.findMany();
  const stored = JSON.stringify(rows);
  expect(stored).not.toContain(rp.secret!);
  expect(stored).not.toContain(body.request_uri.split(':').pop()!);
  expect(stored).toContain(pkce.challenge);
});

it('uses the pushed parameters only: those in the URL are ignored', async () => {
  const { requestUri, pkce } = await pushed(rp, { state: 'pushed-state' });
  const url = authorizeUrl(server, {
    client_id: rp.client.id,
    request_uri: requestUri,
    redirect_uri: 'https://evil.example/cb',
    state: 'url-state',
    scope: 'openid api',
  });
  const callback = await signIn(new HttpBrowser(), server, url, user.email);
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  expect(callback.searchParams.get('state')).toBe('pushed-state');
  const { status, body } = await exchangeCode(server, rp, {
    code: callback.searchParams.get('code')!,
    code_verifier: pkce.verifier,
  });
  expect(status).toBe(200);
  expect(body.scope).toBe('openid profile email offline_access');
});

it('carries repeated resource indicators (RFC 8707) into the access token', async () => {
  const api = await makeClient(server, {
    audiences: ['https://api-a.example', 'https://api-b.example', 'https://api-c.example'],
  });
  const pkce = pkcePair();
  const form = new URLSearchParams(codeRequest(api.client, pkce) as Record<string, string>);
  form.append('resource', 'https://api-a.example');
  form.append('resource', 'https://api-c.example');
  const res = await fetch(`${server.url}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(api) },
    body: form.toString(),
  });
  expect(res.status).toBe(201);
  const { request_uri } = (await res.json()) as { request_uri: string };
  const callback = await signIn(
    new HttpBrowser(),
    server,
    authorizeUrl(server, { client_id: api.client.id, request_uri }),
    user.email,
  );
  const { body } = await exchangeCode(server, api, {
    code: callback.searchParams.get('code')!,
    code_verifier: pkce.verifier,
  });
  expect(decodeJwt(body.access_token as string).aud).toEqual([
    'https://api-a.example',
    'https://api-c.example',
  ]);
  const bad = new URLSearchParams(codeRequest(api.client, pkcePair()) as Record<string, string>);
  bad.append('resource', 'https://unregistered.example');
  const refused = await fetch(`${server.url}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(api) },
    body: bad.toString(),
  });
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ error: 'invalid_target' });
});

describe('a request_uri is refused with a page, never a redirect, when', () => {
  async function expectExpiredPage(url: string) {
    const page = await readPage(await new HttpBrowser().get(url));
    expect(page).toMatchObject({ kind: 'error', status: 400 });
    expect(page.kind === 'error' && page.html).toContain('This sign-in link has expired');
  }

  it('it was used already', async () => {
    const { requestUri } = await pushed(rp);
    const url = authorizeUrl(server, { client_id: rp.client.id, request_uri: requestUri });
    expect((await readPage(await new HttpBrowser().get(url))).kind).toBe('login');
    await expectExpiredPage(url);
  });

  it('it expired (expires_in seconds)', async () => {
    const { requestUri } = await pushed(rp);
    server.clock.advance(61);
    try {
      await expectExpiredPage(
        authorizeUrl(server, { client_id: rp.client.id, request_uri: requestUri }),
      );
    } finally {
      server.clock.advance(-61);
    }
  });

  it('another client presents it', async () => {
    const other = await makeClient(server);
    const { requestUri } = await pushed(rp);
    await expectExpiredPage(
      authorizeUrl(server, { client_id: other.client.id, request_uri: requestUri }),
    );
  });

  it('it was never issued', async () => {
    await expectExpiredPage(
      authorizeUrl(server, {
        client_id: rp.client.id,
        request_uri: 'urn:ietf:params:oauth:request_uri:made-up',
      }),
    );
  });
});

it('refuses a request_uri by reference to another URL with request_uri_not_supported', async () => {
  const pkce = pkcePair();
  const page = await readPage(
    await new HttpBrowser().get(
      authorizeUrl(server, {
        ...codeRequest(rp.client, pkce),
        request_uri: 'https://rp.example/request.jwt',
      }),
    ),
  );
  expect(page.kind).toBe('redirect');
  expect(page.kind === 'redirect' && page.location.searchParams.get('error')).toBe(
    'request_uri_not_supported',
  );
});

describe('the endpoint answers errors as JSON to the client (RFC 9126 §2.3)', () => {
  it.each([
    [
      'an unregistered redirect_uri',
      { redirect_uri: 'https://evil.example/cb' },
      400,
      'invalid_request',
      /redirect_uri/,
    ],
    ['a missing redirect_uri', { redirect_uri: undefined }, 400, 'invalid_request', /redirect_uri/],
    ['a scope not registered', { scope: 'openid admin' }, 400, 'invalid_scope', /admin/],
    ['a request_uri', { request_uri: 'urn:x' }, 400, 'invalid_request', /request_uri/],
    ['a wrong response_type', { response_type: 'token' }, 400, 'unsupported_response_type', /code/],
  ])('%s', async (_name, extra, status, error, description) => {
    const reply = await push(rp, codeRequest(rp.client, pkcePair(), extra));
    expect(reply.status).toBe(status);
    expect(reply.body.error).toBe(error);
    expect(reply.body.error_description).toMatch(description);
  });

  it('without client authentication (invalid_client)', async () => {
    const reply = await push(rp, codeRequest(rp.client, pkcePair()), 'none');
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('invalid_client');
  });
});

describe('a client registered with require_pushed_authorization_requests', () => {
  let strict: FlowClient;
  beforeAll(async () => {
    strict = await createClientFromMetadata(server.services, {
      client_name: 'Strict',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      scope: 'openid profile email offline_access',
      require_pushed_authorization_requests: true,
    });
  });

  it('is refused a direct authorization request (invalid_request to its redirect URI)', async () => {
    const page = await readPage(
      await new HttpBrowser().get(authorizeUrl(server, codeRequest(strict.client, pkcePair()))),
    );
    expect(page.kind).toBe('redirect');
    if (page.kind !== 'redirect') return;
    expect(page.location.searchParams.get('error')).toBe('invalid_request');
    expect(page.location.searchParams.get('error_description')).toMatch(/pushed/);
  });

  it('signs in through /par, the login and consent pages included', async () => {
    const { requestUri, pkce } = await pushed(strict);
    const callback = await signIn(
      new HttpBrowser(),
      server,
      authorizeUrl(server, { client_id: strict.client.id, request_uri: requestUri }),
      user.email,
    );
    const { status } = await exchangeCode(server, strict, {
      code: callback.searchParams.get('code')!,
      code_verifier: pkce.verifier,
    });
    expect(status).toBe(200);
  });
});

describe('REQUIRE_PUSHED_AUTHORIZATION_REQUESTS=true', () => {
  let strictServer: TestServer;
  beforeAll(async () => {
    strictServer = await startTestServer({
      env: { REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true' },
    });
  });
  afterAll(() => strictServer?.stop());

  it('says so in discovery and refuses direct requests from every client', async () => {
    const doc = (await (
      await fetch(`${strictServer.url}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(doc.require_pushed_authorization_requests).toBe(true);
    const app = await makeClient(strictServer);
    const page = await readPage(
      await new HttpBrowser().get(authorizeUrl(strictServer, codeRequest(app.client, pkcePair()))),
    );
    expect(page.kind === 'redirect' && page.location.searchParams.get('error')).toBe(
      'invalid_request',
    );
  });
});

it('discovery advertises the endpoint and that PAR is optional by default', async () => {
  const doc = (await (
    await fetch(`${server.url}/.well-known/openid-configuration`)
  ).json()) as Record<string, unknown>;
  expect(doc.pushed_authorization_request_endpoint).toBe(`${server.url}/par`);
  expect(doc.require_pushed_authorization_requests).toBe(false);
});
