import type { UserRecord } from '../../src/accounts/user-storage';
import { startTestServer, type TestServer } from '../support/server';
import {
  accessClaims,
  clientCredentials,
  login,
  newClient,
  newUser,
  postForm,
  revoke,
  signWithServerKey,
  tamper,
  type TestClient,
  type TokenResponse,
} from '../support/tokens';

let server: TestServer;
let app: TestClient;
let user: UserRecord;
let full: TokenResponse;

beforeAll(async () => {
  server = await startTestServer();
  app = await newClient(server);
  user = await newUser(server, { name: 'Ada Lovelace' });
  full = await login(server, app, user, 'openid profile email');
});
afterAll(async () => {
  await server?.stop();
});

const get = (headers: Record<string, string>, query = '') =>
  fetch(`${server.url}/userinfo${query}`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('GET/POST /userinfo (OIDC Core §5.3, RFC 6750)', () => {
  it("GET with the Authorization header returns sub and the scope's claims, no-store, CORS", async () => {
    const res = await get(bearer(full.access_token));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      sub: user.id,
      name: 'Ada Lovelace',
      email: user.email,
      email_verified: false,
      updated_at: expect.any(Number),
    });
  });

  it('POST with a form-encoded access_token works the same (RFC 6750 §2.2)', async () => {
    const res = await postForm(server, '/userinfo', { access_token: full.access_token });
    expect(res.status).toBe(200);
    expect((await res.json()).sub).toBe(user.id);
  });

  it('POST with the header works too', async () => {
    const res = await fetch(`${server.url}/userinfo`, {
      method: 'POST',
      headers: bearer(full.access_token),
    });
    expect(res.status).toBe(200);
  });

  it.each<[string, string, string[], string[]]>([
    ['openid only', 'openid', ['sub'], ['email', 'name']],
    ['openid email', 'openid email', ['sub', 'email', 'email_verified'], ['name']],
    ['openid profile', 'openid profile', ['sub', 'name'], ['email']],
  ])('claims by scope: %s', async (_name, scope, present, absent) => {
    const t = await login(server, app, user, scope);
    const body = (await (await get(bearer(t.access_token))).json()) as Record<string, unknown>;
    for (const c of present) expect(body).toHaveProperty(c);
    for (const c of absent) expect(body).not.toHaveProperty(c);
  });

  it('without the openid scope: 403 insufficient_scope with a Bearer challenge naming the scope', async () => {
    const t = await login(server, app, user, 'profile email');
    const res = await get(bearer(t.access_token));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="tessera", error="insufficient_scope", error_description="[^"]+", scope="openid"$/,
    );
    expect((await res.json()).error).toBe('insufficient_scope');
  });

  it.each<[string, () => Promise<string>]>([
    [
      'expired',
      () =>
        signWithServerKey(
          server,
          accessClaims(server, app, user, {
            iat: server.clock.epochSeconds() - 3600,
            exp: server.clock.epochSeconds() - 300,
          }),
        ),
    ],
    [
      'revoked',
      async () => {
        const t = await login(server, app, user);
        await revoke(server, app, t.access_token);
        return t.access_token;
      },
    ],
    [
      'tampered',
      async () => tamper(full.access_token, { sub: '00000000-0000-4000-8000-000000000000' }),
    ],
    [
      'another issuer',
      () =>
        signWithServerKey(
          server,
          accessClaims(server, app, user, { iss: 'https://other.example' }),
        ),
    ],
    ['an ID token', async () => full.id_token!],
    ['garbage', async () => 'abc.def.ghi'],
    [
      'a client_credentials token (no user)',
      async () => (await clientCredentials(server, app)).access_token,
    ],
  ])(
    'a bad token (%s) → 401 invalid_token with WWW-Authenticate and a JSON body',
    async (_name, make) => {
      const res = await get(bearer(await make()));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="tessera", error="invalid_token", error_description="[^"\\]+"$/,
      );
      expect(await res.json()).toEqual({
        error: 'invalid_token',
        error_description: expect.any(String),
      });
    },
  );

  it("a disabled user's token → 401 invalid_token", async () => {
    const victim = await newUser(server);
    const t = await login(server, app, victim);
    await server.services.users.setDisabled(victim.id, true, server.clock.now());
    expect((await get(bearer(t.access_token))).status).toBe(401);
  });

  it('no token at all → 401 with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const res = await get({});
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
    expect((await res.json()).error).toBe('invalid_token');
  });

  it.each<[string, () => Promise<Response>]>([
    [
      'header and body both',
      () =>
        postForm(
          server,
          '/userinfo',
          { access_token: full.access_token },
          bearer(full.access_token),
        ),
    ],
    ['the token in the query string', () => get({}, `?access_token=${full.access_token}`)],
    ['a malformed Bearer header', () => get({ authorization: 'Bearer a b' })],
  ])('%s → 400 invalid_request', async (_name, send) => {
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
    expect((await res.json()).error).toBe('invalid_request');
  });

  it('a JSON body is not a way to send the token: 415', async () => {
    const res = await fetch(`${server.url}/userinfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: full.access_token }),
    });
    expect(res.status).toBe(415);
  });

  it('answers the CORS preflight', async () => {
    const res = await fetch(`${server.url}/userinfo`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });
});
