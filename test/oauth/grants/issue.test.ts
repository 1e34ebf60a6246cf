/**
 * Shared issuance (src/oauth/grants/issue.ts): an access token's jti and expiry are fixed once
 * per issuance, so what a grant stores to deny the token later (with its refresh-token family)
 * is exactly what it signs — for the client's own lifetime as for the default one, for a
 * login's first refresh token, a rotation's successor and a retried rotation alike.
 */
import { startTestServer, type TestServer } from '../../support/server';
import { hashOpaqueToken } from '../../../src/tokens/opaque';
import {
  decodeJwt,
  makeClient,
  makeUser,
  passwordLogin,
  token,
  type Reply,
  type TestClient,
} from '../../support/fixtures';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** The access token of a reply, and what the refresh token presented next to it stored about it. */
async function storedWith(reply: Reply): Promise<{
  jti: unknown;
  exp: unknown;
  expiresIn: unknown;
  stored: { jti: string | null; expiresAt: Date | null };
}> {
  expect(reply.status).toBe(200);
  const { payload } = decodeJwt(reply.body.access_token as string);
  const found = await server.services.refreshTokens.findByHash(
    hashOpaqueToken(reply.body.refresh_token as string),
  );
  return {
    jti: payload.jti,
    exp: payload.exp,
    expiresIn: (payload.exp as number) - (payload.iat as number),
    stored: { jti: found!.token.accessTokenJti, expiresAt: found!.token.accessTokenExpiresAt },
  };
}

describe.each([
  { lifetime: 'the default lifetime', accessTokenTtl: null, expiresIn: 900 },
  { lifetime: "the client's own lifetime", accessTokenTtl: 120, expiresIn: 120 },
])('with $lifetime', ({ accessTokenTtl, expiresIn }) => {
  let app: TestClient;
  beforeAll(async () => {
    app = await makeClient(server, { accessTokenTtl });
  });

  it('a login stores the jti and expiry it signs, with its first refresh token', async () => {
    const login = await passwordLogin(server, app, await makeUser(server));
    const t = await storedWith(login);
    expect(login.body.expires_in).toBe(expiresIn);
    expect(t.expiresIn).toBe(expiresIn);
    expect(t.stored).toEqual({ jti: t.jti, expiresAt: new Date((t.exp as number) * 1000) });
  });

  it('a rotation stores the jti and expiry it signs, with the successor', async () => {
    const login = await passwordLogin(server, app, await makeUser(server));
    const rotated = await token(server, app, {
      grant_type: 'refresh_token',
      refresh_token: login.body.refresh_token as string,
    });
    const t = await storedWith(rotated);
    expect(rotated.body.expires_in).toBe(expiresIn);
    expect(t.stored).toEqual({ jti: t.jti, expiresAt: new Date((t.exp as number) * 1000) });
  });

  it('a retried rotation records the jti and expiry it signs, for its family', async () => {
    const login = await passwordLogin(server, app, await makeUser(server));
    const presented = {
      grant_type: 'refresh_token',
      refresh_token: login.body.refresh_token as string,
    };
    const first = await token(server, app, presented);
    const retry = await token(server, app, presented);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(first.body.refresh_token);
    const { payload } = decodeJwt(retry.body.access_token as string);
    const recorded = await server.services.db.prisma.refreshRetryAccessToken.findUnique({
      where: { jti: payload.jti as string },
    });
    expect(recorded?.expiresAt).toEqual(new Date((payload.exp as number) * 1000));
    expect(retry.body.expires_in).toBe(expiresIn);
  });
});
