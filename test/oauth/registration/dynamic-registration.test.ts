/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592), on servers started with
 * REGISTRATION=initial-token and REGISTRATION=open: openid-client's dynamicClientRegistration
 * registers a client with an operator's initial access token and completes the code flow with
 * it; every refusal is RFC 7591's invalid_redirect_uri or invalid_client_metadata, or 401 for a
 * missing, wrong or used-up token; the registration access token reads, replaces and deletes
 * the registration and nothing else.
 */
import * as oidc from 'openid-client';
import { createInitialAccessToken } from '../../../src/admin/registration';
import type { UserRecord } from '../../../src/accounts/user-storage';
import { HttpBrowser, makeUser, REDIRECT, signIn } from '../../support/code-flow';
import { runCliInProcess } from '../../support/cli';
import { describeOnPostgres } from '../../support/database';
import { startTestServer, type TestServer } from '../../support/server';

async function json(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

const webApp = {
  client_name: 'Registered app',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid email offline_access',
};

describe('REGISTRATION=initial-token', () => {
  let server: TestServer;
  let user: UserRecord;
  beforeAll(async () => {
    server = await startTestServer({ env: { REGISTRATION: 'initial-token' } });
    user = await makeUser(server);
  });
  afterAll(() => server?.stop());
  const token = (input: Parameters<typeof createInitialAccessToken>[1] = {}) =>
    createInitialAccessToken(server.services, input).then((t) => t.token);

  it('openid-client registers with an initial access token and signs a user in', async () => {
    const config = await oidc.dynamicClientRegistration(
      new URL(server.config.issuer),
      { ...webApp, token_endpoint_auth_method: 'client_secret_post' },
      oidc.ClientSecretPost(),
      { initialAccessToken: await token({ maxUses: 1 }), execute: [oidc.allowInsecureRequests] },
    );
    const registered = config.clientMetadata();
    expect(registered.client_secret).toEqual(expect.any(String));
    expect(registered.registration_access_token).toEqual(expect.any(String));
    expect(registered.registration_client_uri).toBe(
      `${server.config.issuer}/register/${registered.client_id}`,
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'dcr',
    });
    const callback = await signIn(new HttpBrowser(), server, url.toString(), user.email);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: 'dcr',
    });
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  it('advertises registration_endpoint', async () => {
    const doc = (await (
      await fetch(`${server.url}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(doc.registration_endpoint).toBe(`${server.config.issuer}/register`);
  });

  it('refuses a request without a token, with a wrong one, and with a used-up one (401)', async () => {
    expect((await json(server, 'POST', '/register', webApp)).status).toBe(401);
    const wrong = await json(server, 'POST', '/register', webApp, 'not-a-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_token');
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const once = await token({ maxUses: 1 });
    expect((await json(server, 'POST', '/register', webApp, once)).status).toBe(201);
    expect((await json(server, 'POST', '/register', webApp, once)).status).toBe(401);
  });

  it('refuses an expired token', async () => {
    const soon = await token({ expiresInSeconds: 60 });
    server.clock.advance(61);
    try {
      expect((await json(server, 'POST', '/register', webApp, soon)).status).toBe(401);
    } finally {
      server.clock.advance(-61);
    }
  });

  it('lets concurrent registrations use a token no more often than it allows', async () => {
    const three = await token({ maxUses: 3 });
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () => json(server, 'POST', '/register', webApp, three)),
    );
    expect(statuses.map((s) => s.status).sort()).toEqual([201, 201, 201, 401, 401, 401, 401, 401]);
  });

  it.each([
    [
      'an unsafe redirect URI',
      { ...webApp, redirect_uris: ['http://evil.example/cb'] },
      'invalid_redirect_uri',
      /redirect_uris\[0\].*plain http/,
    ],
    ['first_party', { ...webApp, first_party: true }, 'invalid_client_metadata', /first_party/],
    [
      'audiences without a policy that allows them',
      { ...webApp, audiences: ['https://payments.example'] },
      'invalid_client_metadata',
      /audiences/,
    ],
    [
      'a token lifetime',
      { ...webApp, access_token_ttl: 31_536_000 },
      'invalid_client_metadata',
      /access_token_ttl/,
    ],
    [
      'an unknown field',
      { ...webApp, redirect_uri: REDIRECT },
      'invalid_client_metadata',
      /redirect_uri/,
    ],
    ['a client_id', { ...webApp, client_id: 'mine' }, 'invalid_client_metadata', /client_id/],
    [
      'a token-exchange policy',
      { ...webApp, token_exchange: { audiences: ['https://pay.example'], impersonation: true } },
      'invalid_client_metadata',
      /token_exchange/,
    ],
    [
      'a software statement',
      { ...webApp, software_statement: 'eyJ...' },
      'invalid_software_statement',
      /software_statement/,
    ],
  ])('refuses %s', async (_name, doc, error, description) => {
    const reply = await json(server, 'POST', '/register', doc, await token());
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe(error);
    expect(reply.body.error_description).toMatch(description);
  });

  it("keeps registrations within the token's policy", async () => {
    const policed = await token({
      policy: {
        grant_types: ['authorization_code'],
        scopes: ['openid'],
        audiences: ['https://api.example'],
        redirect_uri_prefixes: ['https://rp.example/'],
      },
    });
    const refused = async (doc: object) =>
      (await json(server, 'POST', '/register', doc, policed)).body.error;
    const base = {
      client_name: 'x',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
    };
    expect(await refused({ ...base, grant_types: ['authorization_code', 'refresh_token'] })).toBe(
      'invalid_client_metadata',
    );
    expect(await refused({ ...base, scope: 'openid email' })).toBe('invalid_client_metadata');
    expect(await refused({ ...base, redirect_uris: ['https://other.example/cb'] })).toBe(
      'invalid_redirect_uri',
    );
    expect(await refused({ ...base, audiences: ['https://other-api.example'] })).toBe(
      'invalid_client_metadata',
    );
    const ok = await json(
      server,
      'POST',
      '/register',
      { ...base, scope: 'openid', audiences: ['https://api.example'] },
      policed,
    );
    expect(ok.status).toBe(201);
    expect(ok.body.audiences).toEqual(['https://api.example']);
    // An update keeps to the policy it registered under.
    const path = `/register/${ok.body.client_id as string}`;
    const access = ok.body.registration_access_token as string;
    const widened = await json(
      server,
      'PUT',
      path,
      { ...base, client_id: ok.body.client_id, redirect_uris: ['https://evil.example/cb'] },
      access,
    );
    expect(widened.body.error).toBe('invalid_redirect_uri');
  });

  it('RFC 7592: reads, replaces and deletes with the registration access token only', async () => {
    const created = await json(server, 'POST', '/register', webApp, await token());
    const clientId = created.body.client_id as string;
    const access = created.body.registration_access_token as string;
    const path = `/register/${clientId}`;

    const read = await json(server, 'GET', path, undefined, access);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ client_id: clientId, client_name: 'Registered app' });
    expect(read.body).not.toHaveProperty('client_secret');
    expect(read.body).not.toHaveProperty('registration_access_token');

    for (const wrongToken of [undefined, 'nope', created.body.client_secret as string])
      expect((await json(server, 'GET', path, undefined, wrongToken)).status).toBe(401);
    const other = await json(server, 'POST', '/register', webApp, await token());
    expect(
      (await json(server, 'GET', path, undefined, other.body.registration_access_token as string))
        .status,
    ).toBe(401);

    const replaced = await json(
      server,
      'PUT',
      path,
      {
        ...webApp,
        client_id: clientId,
        client_name: 'Renamed',
        client_secret: created.body.client_secret,
      },
      access,
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body.client_name).toBe('Renamed');
    const wrongSecret = await json(
      server,
      'PUT',
      path,
      { ...webApp, client_id: clientId, client_secret: 'not-it' },
      access,
    );
    expect(wrongSecret.body.error).toBe('invalid_client_metadata');

    expect((await json(server, 'DELETE', path, undefined, access)).status).toBe(204);
    expect(await server.services.clients.findById(clientId)).toBeNull();
    expect((await json(server, 'GET', path, undefined, access)).status).toBe(401);
  });

  describeOnPostgres('registration CLI')('the CLI', () => {
    it('issues a token that registers', async () => {
      const run = await runCliInProcess(
        ['registration', 'create-token', '--max-uses', '2', '--scope', 'openid', '--json'],
        {
          DATABASE_URL: server.database.url!,
          KEY_ENCRYPTION_KEY: server.config.KEY_ENCRYPTION_KEY!,
        },
      );
      expect([run.code, run.stderr]).toEqual([0, '']);
      const out = JSON.parse(run.stdout) as { initial_access_token: string; max_uses: number };
      expect(out.max_uses).toBe(2);
      const reply = await json(
        server,
        'POST',
        '/register',
        { ...webApp, scope: 'openid' },
        out.initial_access_token,
      );
      expect(reply.status).toBe(201);
    });
  });
});

describe('REGISTRATION=open', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '3', TRUST_PROXY: 'true' },
    });
  });
  afterAll(() => server?.stop());
  const native = {
    client_name: 'CLI tool',
    redirect_uris: ['http://127.0.0.1/callback', 'com.example.tool:/cb'],
    token_endpoint_auth_method: 'none',
  };
  const from = (ip: string, body: unknown) =>
    fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(body),
    });

  it('registers a public native app without a token, with no secret', async () => {
    const res = await from('198.51.100.1', native);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.token_endpoint_auth_method).toBe('none');
    expect(body).not.toHaveProperty('client_secret');
  });

  it.each([
    [
      'a confidential client',
      { ...native, token_endpoint_auth_method: 'client_secret_basic' },
      'invalid_client_metadata',
    ],
    [
      'an https redirect URI',
      { ...native, redirect_uris: ['https://app.example/cb'] },
      'invalid_redirect_uri',
    ],
    [
      'client_credentials',
      { ...native, grant_types: ['client_credentials'] },
      'invalid_client_metadata',
    ],
  ])('refuses %s', async (_name, doc, error) => {
    const res = await from('198.51.100.2', doc);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe(error);
  });

  it('limits registrations per IP (429 with Retry-After)', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await from('198.51.100.9', native)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await from('198.51.100.9', native);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await from('198.51.100.10', native)).status).toBe(201);
  });
});

it('REGISTRATION=off (the default) serves no endpoint and advertises none', async () => {
  const server = await startTestServer();
  try {
    const res = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webApp),
    });
    expect(res.status).toBe(404);
    const doc = (await (
      await fetch(`${server.url}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(doc).not.toHaveProperty('registration_endpoint');
  } finally {
    await server.stop();
  }
});
