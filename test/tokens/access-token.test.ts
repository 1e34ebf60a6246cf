/**
 * A resource server's view: access tokens verified with jose's createRemoteJWKSet + jwtVerify
 * against the running server's JWKS, with typ, iss, aud and the algorithm pinned, for RS256
 * and ES256 clients — as an API behind Tessera would do it.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, passwordLogin, token } from '../support/fixtures';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('RFC 9068 access tokens, verified by a resource server', () => {
  it.each(['RS256', 'ES256'] as const)(
    '%s: user token verifies with pinned alg, typ at+jwt, iss and aud',
    async (alg) => {
      const api = 'https://api.example.com';
      const c = await makeClient(server, { signingAlg: alg, audiences: [api] });
      const user = await makeUser(server, { roles: ['reader', 'writer'] });
      const res = await passwordLogin(server, c, user, { scope: 'openid api:read' });
      expect(res.status).toBe(200);

      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(res.body.access_token as string, jwks, {
        typ: 'at+jwt',
        issuer: server.config.issuer,
        audience: api,
        algorithms: [alg],
        currentDate: server.clock.now(),
      });
      expect(protectedHeader).toMatchObject({ alg, typ: 'at+jwt', kid: expect.any(String) });
      expect(payload).toEqual({
        iss: server.config.issuer,
        sub: user.id,
        aud: api,
        client_id: c.client.id,
        scope: 'openid api:read',
        iat: expect.any(Number),
        exp: expect.any(Number),
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        auth_time: expect.any(Number),
        roles: ['reader', 'writer'],
      });
      expect(payload.exp! - payload.iat!).toBe(server.config.ACCESS_TOKEN_TTL);

      // A verifier pinned to the other algorithm refuses it.
      const other = alg === 'RS256' ? 'ES256' : 'RS256';
      await expect(
        jwtVerify(res.body.access_token as string, jwks, {
          typ: 'at+jwt',
          issuer: server.config.issuer,
          audience: api,
          algorithms: [other],
        }),
      ).rejects.toThrow();
    },
  );

  it('a client without audiences gets its own id as aud; several audiences become an array', async () => {
    const plain = await makeClient(server);
    const multi = await makeClient(server, {
      audiences: ['https://a.example', 'https://b.example'],
    });
    const p = await token(server, plain, { grant_type: 'client_credentials', scope: 'api:read' });
    const m = await token(server, multi, { grant_type: 'client_credentials', scope: 'api:read' });
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const opts = { typ: 'at+jwt', issuer: server.config.issuer, algorithms: ['RS256'] };
    expect(
      (await jwtVerify(p.body.access_token as string, jwks, { ...opts, audience: plain.client.id }))
        .payload.aud,
    ).toBe(plain.client.id);
    expect(
      (
        await jwtVerify(m.body.access_token as string, jwks, {
          ...opts,
          audience: 'https://b.example',
        })
      ).payload.aud,
    ).toEqual(['https://a.example', 'https://b.example']);
    await expect(
      jwtVerify(m.body.access_token as string, jwks, { ...opts, audience: plain.client.id }),
    ).rejects.toThrow();
  });

  it('no roles claim for a user without roles', async () => {
    const c = await makeClient(server);
    const user = await makeUser(server);
    const res = await passwordLogin(server, c, user);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(res.body.access_token as string, jwks, {
      typ: 'at+jwt',
      issuer: server.config.issuer,
      audience: c.client.id,
      algorithms: ['RS256'],
    });
    expect(payload.roles).toBeUndefined();
  });
});
