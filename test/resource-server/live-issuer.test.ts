/**
 * The example API with tokens from Tessera's real /token endpoint (client_credentials and
 * password grants), a real ID token presented as an access token, and the optional online
 * check: a token revoked at /revoke is refused only when the introspection option is on.
 */
import { createClient } from '../../src/admin/clients';
import { createUser } from '../../src/admin/users';
import { basicAuth, PASSWORD } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';
import {
  AUDIENCE,
  call,
  challengeOf,
  countingFetch,
  startApi,
  type RunningApi,
} from '../support/resource-server';

let server: TestServer;
let api: RunningApi;
let online: RunningApi;
let introspected: ReturnType<typeof countingFetch>;
let app: { id: string; secret: string };
let rs: { id: string; secret: string };

beforeAll(async () => {
  server = await startTestServer();
  const a = await createClient(server.services, {
    name: 'resource-server test app',
    firstParty: true,
    grantTypes: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['openid', 'profile', 'api', 'reports'],
    audiences: [AUDIENCE],
  });
  app = { id: a.client.id, secret: a.secret! };
  // The API's own confidential client, used only to call /introspect (RFC 7662 §2.1).
  const r = await createClient(server.services, {
    name: 'example API',
    grantTypes: ['client_credentials'],
    scopes: ['api'],
  });
  rs = { id: r.client.id, secret: r.secret! };
  await createUser(server.services, {
    email: 'admin@example.com',
    password: PASSWORD,
    roles: ['admin'],
  });
  api = await startApi(server);
  introspected = countingFetch();
  online = await startApi(server, {
    introspection: { clientId: rs.id, clientSecret: rs.secret },
    fetch: introspected.fetch,
  });
});
afterAll(async () => {
  await api?.close();
  await online?.close();
  await server?.stop();
});

async function post(
  path: string,
  c: { id: string; secret: string },
  params: Record<string, string>,
) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(c.id, c.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params).toString(),
  });
  return {
    status: res.status,
    body: (res.status === 200 && res.headers.get('content-type')?.includes('json')
      ? await res.json()
      : {}) as Record<string, string>,
  };
}

async function clientToken(scope = 'api'): Promise<string> {
  const res = await post('/token', app, { grant_type: 'client_credentials', scope });
  expect(res.status).toBe(200);
  return res.body.access_token!;
}

describe('tokens from /token', () => {
  it('a client_credentials access token reaches the scope-protected route', async () => {
    const res = await call(api, '/items', await clientToken());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: app.id, client_id: app.id, scopes: ['api'] });
  });

  it('a client_credentials token without scope "api" gets 403 insufficient_scope', async () => {
    const res = await call(api, '/items', await clientToken('reports'));
    expect(res.status).toBe(403);
    expect(challengeOf(res)).toMatchObject({ error: 'insufficient_scope', scope: 'api' });
  });

  it('a password-grant token of a user with role admin reaches /admin; its ID token is refused everywhere', async () => {
    const login = await post('/token', app, {
      grant_type: 'password',
      username: 'admin@example.com',
      password: PASSWORD,
      scope: 'openid api',
    });
    expect(login.status).toBe(200);
    expect((await call(api, '/admin', login.body.access_token)).status).toBe(200);

    // RFC 9068 §4: typ "JWT" is not "at+jwt" — an ID token is not an access token.
    const res = await call(api, '/items', login.body.id_token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: 'invalid_token',
      error_description: expect.stringMatching(/token type is JWT/),
    });
  });
});

describe('online revocation check (introspection option)', () => {
  it('a revoked jti is still accepted offline but refused with the introspection option', async () => {
    const token = await clientToken();
    expect((await call(online, '/admin', token)).status).toBe(403); // active, but no admin role
    expect(introspected.count('/introspect')).toBe(1);

    expect((await post('/revoke', app, { token, token_type_hint: 'access_token' })).status).toBe(
      200,
    );

    // Offline verification cannot know (the token is validly signed and unexpired)...
    expect((await call(api, '/items', token)).status).toBe(200);
    // ...the online check asks /introspect and refuses it.
    const res = await call(online, '/admin', token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: 'invalid_token',
      error_description: expect.stringMatching(/revoked/),
    });
    expect(introspected.count('/introspect')).toBe(2);
  });

  it('wrong introspection credentials close the route (503), never let the token through', async () => {
    const broken = await startApi(server, {
      introspection: { clientId: rs.id, clientSecret: 'wrong' },
    });
    try {
      const res = await call(broken, '/admin', await clientToken());
      expect(res.status).toBe(503);
      expect((await res.json()).error).toBe('temporarily_unavailable');
    } finally {
      await broken.close();
    }
  });
});
