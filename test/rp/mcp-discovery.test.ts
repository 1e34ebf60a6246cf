/**
 * An MCP-style client (oauth4webapi v3) that knows nothing but the URL of the resource it wants
 * to call: the API's 401 names its protected-resource metadata (RFC 9728 §5.1), which names
 * the authorization server (§2); the client reads that server's RFC 8414 metadata, runs the
 * code flow with PKCE as a public client with `resource` set to the API (RFC 8707 §2, as the
 * MCP authorization spec requires), and calls the API with the token. A token for another
 * resource is refused by the API.
 */
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import * as oauth from 'oauth4webapi';
import {
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  requireAccessToken,
  type AccessTokenState,
} from '../../src/resource-server';
import { HttpBrowser, makeClient, makeUser, REDIRECT, signIn } from '../support/code-flow';
import { freePort, startTestServer, type TestServer } from '../support/server';
import { challengeOf } from '../support/resource-server';
import type { UserRecord } from '../../src/accounts/user-storage';

const OTHER_RESOURCE = 'https://other.example.test';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let server: TestServer;
let user: UserRecord;
let mcpUrl: string;
let http: Server;
let client: oauth.Client;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  const port = await freePort();
  mcpUrl = `http://127.0.0.1:${port}/mcp`;
  const app = new Koa<AccessTokenState>();
  app.use(
    protectedResourceMetadata({
      resource: mcpUrl,
      authorizationServers: [server.config.issuer],
      scopesSupported: ['mcp'],
      resourceName: 'Example MCP server',
    }),
  );
  const router = new Router<AccessTokenState>();
  router.post(
    '/mcp',
    requireAccessToken({
      issuer: server.config.issuer,
      audience: mcpUrl,
      requiredScopes: ['mcp'],
      resourceMetadata: protectedResourceMetadataUrl(mcpUrl),
      now: () => server.clock.now().getTime(),
    }),
    (ctx) => {
      ctx.body = { jsonrpc: '2.0', id: 1, result: { sub: ctx.state.auth.claims.sub } };
    },
  );
  app.use(router.routes());
  http = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  // The MCP client's registration: public, PKCE, its resources registered as audiences.
  const registered = await makeClient(server, {
    isPublic: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['mcp', 'offline_access'],
    audiences: [mcpUrl, OTHER_RESOURCE],
  });
  client = { client_id: registered.client.id };
});
afterAll(async () => {
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  await server?.stop();
});

const callMcp = (token?: string) =>
  fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });

/** The code flow against `as` for `resource`, signed in through Tessera's pages. */
async function codeFlowFor(as: oauth.AuthorizationServer, resource: string): Promise<string> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    scope: 'mcp',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource,
  }).toString();
  const callback = await signIn(new HttpBrowser(), server, url.toString(), user.email);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    REDIRECT,
    verifier,
    { ...insecure, additionalParameters: { resource } },
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  return tokens.access_token;
}

describe('an MCP-style client discovers Tessera from the 401 and gets a token for the resource', () => {
  it('401 → resource metadata → AS metadata → code flow with resource → 200', async () => {
    const unauthorized = await callMcp();
    expect(unauthorized.status).toBe(401);
    const { resource_metadata: metadataUrl } = challengeOf(unauthorized);
    expect(metadataUrl).toBe(protectedResourceMetadataUrl(mcpUrl));

    // RFC 9728 §3.3: the document's resource must be the one the client called.
    const rs = await oauth.processResourceDiscoveryResponse(
      new URL(mcpUrl),
      await fetch(metadataUrl!),
    );
    expect(rs.scopes_supported).toEqual(['mcp']);
    const issuer = new URL(rs.authorization_servers![0]!);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    expect(as.code_challenge_methods_supported).toContain('S256');

    const token = await codeFlowFor(as, rs.resource);
    const ok = await callMcp(token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ result: { sub: user.id } });
  });

  it('a token the client asked for another resource is refused by the MCP server', async () => {
    const issuer = new URL(server.config.issuer);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    const token = await codeFlowFor(as, OTHER_RESOURCE);
    const refused = await callMcp(token);
    expect(refused.status).toBe(401);
    expect(challengeOf(refused)).toMatchObject({
      error: 'invalid_token',
      resource_metadata: protectedResourceMetadataUrl(mcpUrl),
    });
  });
});
