import type { UserRecord } from '../../src/accounts/user-storage';
import { startTestServer, type TestServer } from '../support/server';
import {
  accessClaims,
  basic,
  clientCredentials,
  decodePayload,
  introspect,
  login,
  newClient,
  newUser,
  postForm,
  signWithServerKey,
  signWithStrangerKey,
  tamper,
  type TestClient,
  type TokenResponse,
} from '../support/tokens';

let server: TestServer;
let app: TestClient;
let other: TestClient;
let resourceServer: TestClient;
let user: UserRecord;
let tokens: TokenResponse;

beforeAll(async () => {
  server = await startTestServer({ env: { SIGNING_ALGS: 'RS256,ES256' } });
  app = await newClient(server);
  other = await newClient(server);
  resourceServer = await newClient(server, {
    firstParty: false,
    grantTypes: ['client_credentials'],
    scopes: ['api'],
  });
  user = await newUser(server);
  tokens = await login(server, app, user);
});
afterAll(async () => {
  await server?.stop();
});

describe('POST /introspect (RFC 7662)', () => {
  it('an active access token: the RFC 7662 §2.2 members, no-store', async () => {
    const res = await postForm(
      server,
      '/introspect',
      { token: tokens.access_token },
      { authorization: basic(resourceServer) },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    const claims = decodePayload(tokens.access_token);
    expect(body).toEqual({
      active: true,
      scope: tokens.scope,
      client_id: app.client.id,
      sub: user.id,
      exp: claims.exp,
      iat: claims.iat,
      iss: server.config.issuer,
      aud: claims.aud,
      token_type: 'Bearer',
      jti: claims.jti,
    });
  });

  it('a token_type_hint, right, wrong or unknown, changes nothing', async () => {
    for (const hint of ['access_token', 'refresh_token', 'something_else']) {
      expect(
        (await introspect(server, resourceServer, tokens.access_token, { token_type_hint: hint }))
          .active,
      ).toBe(true);
    }
  });

  it('a client_credentials token is active with sub = client_id', async () => {
    const cc = await clientCredentials(server, app);
    expect(await introspect(server, resourceServer, cc.access_token)).toMatchObject({
      active: true,
      sub: app.client.id,
      client_id: app.client.id,
      token_type: 'Bearer',
    });
  });

  it('the owning client sees its refresh token active; another client does not', async () => {
    const own = await introspect(server, app, tokens.refresh_token!);
    expect(own).toMatchObject({
      active: true,
      client_id: app.client.id,
      sub: user.id,
      token_type: 'refresh_token',
      scope: tokens.scope,
      iss: server.config.issuer,
    });
    expect(own.exp).toEqual(expect.any(Number));
    // RFC 7662 §2.1: refresh tokens are shown only to the client they were issued to.
    expect(await introspect(server, other, tokens.refresh_token!)).toEqual({ active: false });
  });

  it.each<[string, () => Promise<string>]>([
    [
      'expired',
      () =>
        signWithServerKey(
          server,
          accessClaims(server, app, user, {
            iat: server.clock.epochSeconds() - 3600,
            exp: server.clock.epochSeconds() - 600,
          }),
        ),
    ],
    [
      'revoked jti',
      async () => {
        const claims = accessClaims(server, app, user);
        await server.services.revokedAccessTokens.revoke(
          claims.jti!,
          new Date((claims.exp! + 60) * 1000),
          'test',
        );
        return signWithServerKey(server, claims);
      },
    ],
    ['malformed', async () => 'not-a-jwt.at-all'],
    ['three garbage segments', async () => 'a.b.c'],
    [
      'tampered (scope widened, signature kept)',
      async () =>
        tamper((await login(server, app, user, 'openid')).access_token, {
          scope: 'openid profile email api',
        }),
    ],
    [
      'another issuer',
      () =>
        signWithServerKey(
          server,
          accessClaims(server, app, user, { iss: 'https://evil.example.com' }),
        ),
    ],
    [
      'a key this server never had',
      async () => signWithStrangerKey(accessClaims(server, app, user), 'stranger-kid'),
    ],
    [
      'an ID token (typ JWT, not at+jwt)',
      () => signWithServerKey(server, accessClaims(server, app, user), 'RS256', 'JWT'),
    ],
    [
      'claims of the wrong shape (no client_id)',
      () => signWithServerKey(server, accessClaims(server, app, user, { client_id: undefined })),
    ],
    [
      'a user that no longer exists',
      () =>
        signWithServerKey(
          server,
          accessClaims(server, app, user, { sub: '00000000-0000-4000-8000-000000000000' }),
        ),
    ],
    ['unknown opaque token', async () => 'x'.repeat(43)],
    [
      "another client's refresh token",
      async () => (await login(server, other, user)).refresh_token!,
    ],
  ])('inactive: %s', async (_name, make) => {
    expect(await introspect(server, resourceServer, await make())).toEqual({ active: false });
  });

  it("a disabled user's tokens become inactive at once", async () => {
    const victim = await newUser(server);
    const t = await login(server, app, victim);
    expect((await introspect(server, app, t.access_token)).active).toBe(true);
    await server.services.users.setDisabled(victim.id, true, server.clock.now());
    expect(await introspect(server, app, t.access_token)).toEqual({ active: false });
    expect(await introspect(server, app, t.refresh_token!)).toEqual({ active: false });
  });

  it('a rotated refresh token is inactive, its successor active', async () => {
    const t = await login(server, app, user);
    const res = await postForm(
      server,
      '/token',
      { grant_type: 'refresh_token', refresh_token: t.refresh_token! },
      { authorization: basic(app) },
    );
    expect(res.status).toBe(200);
    const next = (await res.json()) as TokenResponse;
    expect(await introspect(server, app, t.refresh_token!)).toEqual({ active: false });
    expect((await introspect(server, app, next.refresh_token!)).active).toBe(true);
  });

  it.each<[string, Record<string, string>]>([
    ['no credentials', {}],
    ['a wrong secret', { authorization: `Basic ${Buffer.from('x:y').toString('base64')}` }],
  ])('an unauthenticated caller (%s) gets 401 invalid_client', async (_name, headers) => {
    const res = await postForm(server, '/introspect', { token: tokens.access_token }, headers);
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_client');
  });

  it('a public client (client_id only) may not introspect: 401 invalid_client', async () => {
    const pub = await newClient(server, {
      isPublic: true,
      firstParty: false,
      grantTypes: ['refresh_token'],
      scopes: ['openid'],
    });
    const res = await postForm(server, '/introspect', {
      token: tokens.access_token,
      client_id: pub.client.id,
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_client');
  });

  it.each<[string, Record<string, string>, string]>([
    ['no token', {}, 'application/x-www-form-urlencoded'],
    ['an empty token', { token: '' }, 'application/x-www-form-urlencoded'],
  ])('%s → 400 invalid_request', async (_name, form, type) => {
    const res = await fetch(`${server.url}/introspect`, {
      method: 'POST',
      headers: { 'content-type': type, authorization: basic(resourceServer) },
      body: new URLSearchParams(form).toString(),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_request');
  });

  it('a JSON body is refused (RFC 7662 §2.1 is form-encoded): 415 invalid_request', async () => {
    const res = await fetch(`${server.url}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic(resourceServer) },
      body: JSON.stringify({ token: tokens.access_token }),
    });
    expect(res.status).toBe(415);
    expect((await res.json()).error).toBe('invalid_request');
  });

  // Last: it retires the ES256 key, so nothing after may sign with ES256.
  it('a token signed by a key that has since been retired is inactive', async () => {
    const token = await signWithServerKey(server, accessClaims(server, app, user), 'ES256');
    expect((await introspect(server, resourceServer, token)).active).toBe(true);
    const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
      .kid as string;
    const now = server.clock.now();
    await server.services.signingKeys.locked((tx) =>
      tx.update(kid, { state: 'retired', privateKeyCipher: null, kekId: null, retiredAt: now }),
    );
    await server.services.keyStore.load();
    expect(await introspect(server, resourceServer, token)).toEqual({ active: false });
  });
});
