/**
 * CORS (issue 7): /token, /refresh and /revoke answer browsers only from origins of
 * registered redirect URIs (preflight and actual request, errors included); JWKS and
 * discovery are public to every origin.
 */
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, PASSWORD, token, type TestClient } from '../support/fixtures';
import { createClientFromMetadata, updateClient } from '../../src/admin/clients';

const SPA = 'https://spa.example.com';
let server: TestServer;
let app: TestClient;
beforeAll(async () => {
  server = await startTestServer();
  app = await makeClient(server, {
    grantTypes: ['password', 'refresh_token', 'authorization_code'],
    redirectUris: [`${SPA}/callback`, 'com.example.app:/oauth'],
  });
  await makeClient(server, {
    name: 'disabled',
    redirectUris: ['https://gone.example.com/cb'],
    grantTypes: ['authorization_code'],
  }).then((c) => server.services.clients.setDisabled(c.client.id, true));
});
afterAll(async () => {
  await server?.stop();
});

const preflight = (path: string, origin: string) =>
  fetch(`${server.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('CORS on /token, /refresh, /revoke', () => {
  it.each(['/token', '/refresh', '/revoke'])(
    '%s: a preflight from a registered origin is allowed',
    async (path) => {
      const res = await preflight(path, SPA);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(SPA);
      expect(res.headers.get('access-control-allow-methods')).toBe('POST');
      expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/origin/i);
    },
  );

  it.each([
    ['an unregistered origin', 'https://evil.example'],
    ['a registered origin on another port', 'https://spa.example.com:8443'],
    ['http instead of https', 'http://spa.example.com'],
    ["a disabled client's origin", 'https://gone.example.com'],
    ['the opaque origin', 'null'],
    ['a suffix trick', 'https://spa.example.com.evil.example'],
  ])('a preflight from %s gets no CORS headers', async (_name, origin) => {
    for (const path of ['/token', '/refresh', '/revoke']) {
      const res = await preflight(path, origin);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-methods')).toBeNull();
    }
  });

  it('the actual request carries the origin on success and on errors, and nothing for strangers', async () => {
    const user = await makeUser(server);
    const ok = await token(
      server,
      app,
      { grant_type: 'password', username: user.email, password: PASSWORD, scope: 'openid' },
      {},
    );
    expect(ok.status).toBe(200);
    const withOrigin = (origin: string, params: Record<string, string>) =>
      fetch(`${server.url}/token`, {
        method: 'POST',
        headers: {
          origin,
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${app.client.id}:${app.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams(params).toString(),
      });
    const good = await withOrigin(SPA, {
      grant_type: 'password',
      username: user.email,
      password: PASSWORD,
      scope: 'openid',
    });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe(SPA);
    const bad = await withOrigin(SPA, {
      grant_type: 'password',
      username: user.email,
      password: 'wrong',
      scope: 'openid',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe(SPA); // the page may read the error
    const stranger = await withOrigin('https://evil.example', {
      grant_type: 'password',
      username: user.email,
      password: PASSWORD,
      scope: 'openid',
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });
});

it('follows a client update: the new redirect origin is allowed, the old one no longer', async () => {
  const moving = await createClientFromMetadata(server.services, {
    client_name: 'Moving SPA',
    redirect_uris: ['https://old-home.example/cb'],
    token_endpoint_auth_method: 'none',
  });
  expect(
    (await preflight('/token', 'https://old-home.example')).headers.get(
      'access-control-allow-origin',
    ),
  ).toBe('https://old-home.example');
  await updateClient(server.services, moving.client.id, {
    client_name: 'Moving SPA',
    redirect_uris: ['https://NEW-home.example:443/callback'],
    token_endpoint_auth_method: 'none',
  });
  // Answers are cached for ten seconds.
  server.clock.advance(11);
  expect(
    (await preflight('/token', 'https://new-home.example')).headers.get(
      'access-control-allow-origin',
    ),
  ).toBe('https://new-home.example');
  expect(
    (await preflight('/token', 'https://old-home.example')).headers.get(
      'access-control-allow-origin',
    ),
  ).toBeNull();
});

describe('public documents', () => {
  it.each(['/.well-known/jwks.json', '/.well-known/openid-configuration'])(
    '%s is readable from any origin',
    async (path) => {
      const res = await fetch(`${server.url}${path}`, {
        headers: { origin: 'https://anyone.example' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    },
  );
});
