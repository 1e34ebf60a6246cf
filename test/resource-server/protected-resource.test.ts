/**
 * Protected Resource Metadata (RFC 9728) from `tessera/resource-server`: the document served
 * over HTTP at the well-known URL (and its path-suffixed form, §3.1), accepted by oauth4webapi's
 * discovery, and named as `resource_metadata` in every challenge of requireAccessToken
 * (§5.1) — 401 without a token or with a bad one, 403 for a missing scope — with a real token
 * from a live Tessera. Without the new options nothing changes.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import * as oauth from 'oauth4webapi';
import { createClient } from '../../src/admin/clients';
import {
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  requireAccessToken,
  requireScopes,
  type AccessTokenState,
  type ProtectedResourceMetadataOptions,
} from '../../src/resource-server';
import { basicAuth } from '../support/fixtures';
import { freePort, startTestServer, type TestServer } from '../support/server';
import { challengeOf } from '../support/resource-server';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

interface Api {
  /** The resource identifier: the API's own URL plus `path`. */
  resource: string;
  url: string;
  close(): Promise<void>;
}

/** An API at `path` serving its metadata; `resourceMetadata` in its challenges when `announce`. */
async function startApi(
  path: string,
  extra: Partial<ProtectedResourceMetadataOptions> = {},
  announce = true,
): Promise<Api> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const resource = `${url}${path}`;
  const app = new Koa<AccessTokenState>();
  app.use(
    protectedResourceMetadata({
      resource,
      authorizationServers: [server.config.issuer],
      ...extra,
    }),
  );
  const auth = requireAccessToken({
    issuer: server.config.issuer,
    audience: resource,
    now: () => server.clock.now().getTime(),
    ...(announce ? { resourceMetadata: protectedResourceMetadataUrl(resource) } : {}),
  });
  const router = new Router<AccessTokenState>();
  router.get(path === '' ? '/' : path, auth, (ctx) => {
    ctx.body = { ok: true };
  });
  router.get(`${path}/reports`, auth, requireScopes('reports'), (ctx) => {
    ctx.body = { ok: true };
  });
  app.use(router.routes());
  const http: Server = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  expect((http.address() as AddressInfo).port).toBe(port);
  return { resource, url, close: () => new Promise((r) => http.close(() => r())) };
}

/** A client_credentials token from Tessera for `resource` (RFC 8707). */
async function tokenFor(resource: string, scope = 'api'): Promise<string> {
  const c = await createClient(server.services, {
    name: 'metadata test app',
    grantTypes: ['client_credentials'],
    scopes: ['api', 'reports'],
    audiences: [resource],
  });
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuth(c.client.id, c.secret!),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }).toString(),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('protectedResourceMetadataUrl (RFC 9728 §3.1)', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com/.well-known/oauth-protected-resource'],
    ['https://api.example.com/', 'https://api.example.com/.well-known/oauth-protected-resource'],
    [
      'https://api.example.com/v1/orders',
      'https://api.example.com/.well-known/oauth-protected-resource/v1/orders',
    ],
    [
      'https://api.example.com:8443/mcp/',
      'https://api.example.com:8443/.well-known/oauth-protected-resource/mcp/',
    ],
    ['http://127.0.0.1:4000/mcp', 'http://127.0.0.1:4000/.well-known/oauth-protected-resource/mcp'],
  ])('%s → %s', (resource, expected) => {
    expect(protectedResourceMetadataUrl(resource)).toBe(expected);
  });

  it.each([
    ['plain http off loopback', 'http://api.example.com'],
    ['a fragment', 'https://api.example.com/#x'],
    ['a query', 'https://api.example.com/?tenant=1'],
    ['credentials', 'https://user:pw@api.example.com'],
    ['not a URL', 'api.example.com'],
  ])('refuses a resource with %s', (_name, resource) => {
    expect(() => protectedResourceMetadataUrl(resource)).toThrow(TypeError);
    expect(() =>
      protectedResourceMetadata({ resource, authorizationServers: [server.config.issuer] }),
    ).toThrow(TypeError);
  });

  it('refuses metadata without authorization servers, and a resourceMetadata needing escapes', () => {
    expect(() =>
      protectedResourceMetadata({ resource: 'https://api.example.com', authorizationServers: [] }),
    ).toThrow(/authorizationServers/);
    expect(() =>
      requireAccessToken({
        issuer: server.config.issuer,
        audience: 'https://api.example.com',
        resourceMetadata: 'https://api.example.com/".well-known',
      }),
    ).toThrow(/resourceMetadata/);
  });
});

describe('the metadata document over HTTP (RFC 9728 §2, §3.2)', () => {
  it('is served at the well-known URL of a resource without a path', async () => {
    const api = await startApi('', {
      scopesSupported: ['api', 'reports'],
      resourceName: 'Orders API',
      resourceDocumentation: 'https://docs.example.com/orders',
    });
    try {
      const res = await fetch(`${api.url}/.well-known/oauth-protected-resource`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual({
        resource: api.resource,
        authorization_servers: [server.config.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['api', 'reports'],
        resource_name: 'Orders API',
        resource_documentation: 'https://docs.example.com/orders',
      });
      const post = await fetch(`${api.url}/.well-known/oauth-protected-resource`, {
        method: 'POST',
      });
      expect(post.status).toBe(405);
    } finally {
      await api.close();
    }
  });

  it('is served at the path-suffixed URL of a resource with a path, and only there', async () => {
    const api = await startApi('/v1/orders');
    try {
      const res = await fetch(protectedResourceMetadataUrl(api.resource));
      expect(res.url).toBe(`${api.url}/.well-known/oauth-protected-resource/v1/orders`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as Record<string, unknown>;
      expect(doc).toEqual({
        resource: api.resource,
        authorization_servers: [server.config.issuer],
        bearer_methods_supported: ['header'],
      });
      expect((await fetch(`${api.url}/.well-known/oauth-protected-resource`)).status).toBe(404);
      // oauth4webapi derives the same URL and accepts the document (§3.3: resource matches).
      const found = await oauth.processResourceDiscoveryResponse(
        new URL(api.resource),
        await oauth.resourceDiscoveryRequest(new URL(api.resource), {
          [oauth.allowInsecureRequests]: true,
        }),
      );
      expect(found.authorization_servers).toEqual([server.config.issuer]);
    } finally {
      await api.close();
    }
  });
});

describe('resource_metadata in the challenges (RFC 9728 §5.1)', () => {
  let api: Api;
  let metadataUrl: string;
  beforeAll(async () => {
    api = await startApi('/v1');
    metadataUrl = protectedResourceMetadataUrl(api.resource);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('401 without a token: realm and resource_metadata, no error code', async () => {
    const res = await fetch(`${api.url}/v1`);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toEqual({ realm: api.resource, resource_metadata: metadataUrl });
  });

  it('401 invalid_token for a bad token, still with resource_metadata', async () => {
    const res = await fetch(`${api.url}/v1`, { headers: { authorization: 'Bearer a.b.c' } });
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toMatchObject({
      error: 'invalid_token',
      resource_metadata: metadataUrl,
    });
  });

  it('403 insufficient_scope, with resource_metadata; a token for the resource passes', async () => {
    const token = await tokenFor(api.resource);
    const ok = await fetch(`${api.url}/v1`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const res = await fetch(`${api.url}/v1/reports`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(403);
    expect(challengeOf(res)).toMatchObject({
      error: 'insufficient_scope',
      scope: 'reports',
      resource_metadata: metadataUrl,
    });
  });

  it('without the resourceMetadata option the challenge is as before', async () => {
    const quiet = await startApi('/quiet', {}, false);
    try {
      const res = await fetch(`${quiet.url}/quiet`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${quiet.resource}"`);
    } finally {
      await quiet.close();
    }
  });
});
