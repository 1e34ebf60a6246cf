import { sha256 } from '../../../src/shared/crypto';
import { startTestServer, type TestServer } from '../../support/server';
import {
  basic,
  decodeJwt,
  makeClient,
  makeUser,
  passwordLogin,
  post,
  token,
  type Reply,
  type TestClient,
} from '../../support/fixtures';

let server: TestServer;
let app: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  app = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

async function login(
  scope = 'openid profile email offline_access api:read api:write',
): Promise<{ refresh: string; access: string; userId: string }> {
  const user = await makeUser(server);
  const res = await passwordLogin(server, app, user, { scope });
  expect(res.status).toBe(200);
  return {
    refresh: res.body.refresh_token as string,
    access: res.body.access_token as string,
    userId: user.id,
  };
}

const refresh = (
  rt: string,
  extra: Record<string, string> = {},
  c: TestClient = app,
): Promise<Reply> => token(server, c, { grant_type: 'refresh_token', refresh_token: rt, ...extra });

async function familyOf(rt: string) {
  return (await server.services.refreshTokens.findByHash(sha256(rt)))!.family;
}

describe('refresh_token grant', () => {
  it('rotates: a new refresh token each use, an ID token when openid is in scope', async () => {
    const { refresh: rt1 } = await login();
    const r1 = await refresh(rt1);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('cache-control')).toBe('no-store');
    expect(r1.body).toMatchObject({
      token_type: 'Bearer',
      scope: 'openid profile email offline_access api:read api:write',
      id_token: expect.any(String),
    });
    const rt2 = r1.body.refresh_token as string;
    expect(rt2).not.toBe(rt1);
    const r2 = await refresh(rt2);
    expect(r2.status).toBe(200);
    // auth_time stays the original login's.
    expect(decodeJwt(r2.body.id_token as string).payload.auth_time).toBe(
      decodeJwt(r1.body.id_token as string).payload.auth_time,
    );
  });

  it('POST /refresh is the same grant, with form or JSON bodies', async () => {
    const { refresh: rt1 } = await login();
    const r1 = await post(
      server,
      '/refresh',
      { refresh_token: rt1 },
      { headers: { authorization: basic(app) }, json: true },
    );
    expect(r1.status).toBe(200);
    const r2 = await post(
      server,
      '/refresh',
      { refresh_token: r1.body.refresh_token as string },
      { headers: { authorization: basic(app) } },
    );
    expect(r2.status).toBe(200);
    expect(r2.headers.get('cache-control')).toBe('no-store');
    const wrong = await post(
      server,
      '/refresh',
      { grant_type: 'password', refresh_token: 'x' },
      { headers: { authorization: basic(app) } },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_request');
  });

  it('lets the scope shrink but never grow; the original scope stays available', async () => {
    const { refresh: rt1 } = await login('openid api:read api:write');
    const narrowed = await refresh(rt1, { scope: 'api:read' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('api:read');
    expect(narrowed.body.id_token).toBeUndefined();
    const grow = await refresh(narrowed.body.refresh_token as string, { scope: 'api:read email' });
    expect(grow.status).toBe(400);
    expect(grow.body.error).toBe('invalid_scope');
    const back = await refresh(narrowed.body.refresh_token as string);
    expect(back.body.scope).toBe('openid api:read api:write');
  });

  it.each([
    ['an unknown token', async () => ({ rt: 'A'.repeat(43), c: app })],
    [
      'a token of another client',
      async () => ({ rt: (await login()).refresh, c: await makeClient(server) }),
    ],
  ])('refuses %s with invalid_grant', async (_name, arrange) => {
    const { rt, c } = await arrange();
    const res = await refresh(rt, {}, c);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('a token presented by another client is left intact for its own client', async () => {
    const { refresh: rt } = await login();
    const other = await makeClient(server);
    expect((await refresh(rt, {}, other)).body.error).toBe('invalid_grant');
    expect((await refresh(rt)).status).toBe(200);
  });

  it('idle expiry and absolute expiry end a family', async () => {
    const short = await makeClient(server, { refreshTokenIdleTtl: 100, refreshTokenTtl: 250 });
    const user = await makeUser(server);
    const rt1 = (await passwordLogin(server, short, user)).body.refresh_token as string;
    server.clock.advance(90);
    const r1 = await refresh(rt1, {}, short);
    expect(r1.status).toBe(200);
    server.clock.advance(101); // idle: 101 s unused
    expect((await refresh(r1.body.refresh_token as string, {}, short)).body.error).toBe(
      'invalid_grant',
    );

    const rt2 = (await passwordLogin(server, short, user)).body.refresh_token as string;
    let current = rt2;
    for (let i = 0; i < 2; i++) {
      server.clock.advance(90);
      const r = await refresh(current, {}, short);
      expect(r.status).toBe(200);
      current = r.body.refresh_token as string;
    }
    server.clock.advance(90); // 270 s > 250 s absolute, though used 90 s ago
    expect((await refresh(current, {}, short)).body.error).toBe('invalid_grant');
  });

  it("stops a disabled user's families at once", async () => {
    const { refresh: rt, userId } = await login();
    await server.services.users.setDisabled(userId, true, new Date());
    expect((await refresh(rt)).body.error).toBe('invalid_grant');
  });

  it('a replay after the retry window revokes the family, its successor and its access tokens', async () => {
    const { refresh: rt1, userId } = await login();
    const r1 = await refresh(rt1);
    const rt2 = r1.body.refresh_token as string;
    const at2 = decodeJwt(r1.body.access_token as string).payload;
    server.clock.advance(server.config.REFRESH_REUSE_GRACE_SECONDS + 1);
    const replay = await refresh(rt1);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await familyOf(rt1)).revokedReason).toBe('refresh_token_reuse');
    expect((await refresh(rt2)).body.error).toBe('invalid_grant');
    // The access token issued with the successor is denied by jti.
    const denied = await server.services.db.prisma.revokedAccessToken.findUnique({
      where: { jti: at2.jti as string },
    });
    expect(denied).not.toBeNull();
    const audit = await server.services.audit.list({
      userId,
      type: 'refresh_token.reuse_detected',
    });
    expect(audit).toHaveLength(1);
  });

  it("revoking all of a user's families (logout everywhere) kills their refresh and access tokens", async () => {
    const user = await makeUser(server);
    const a = await passwordLogin(server, app, user);
    const b = await passwordLogin(server, app, user);
    const repo = server.services.refreshTokens;
    expect(await repo.revokeAllForUser(user.id, 'logout_all', server.clock.now())).toBe(2);
    expect(await repo.revokeAllForUser(user.id, 'logout_all', server.clock.now())).toBe(0);
    for (const r of [a, b]) {
      expect((await refresh(r.body.refresh_token as string)).body.error).toBe('invalid_grant');
      const jti = decodeJwt(r.body.access_token as string).payload.jti as string;
      expect(
        await server.services.db.prisma.revokedAccessToken.findUnique({ where: { jti } }),
      ).not.toBeNull();
    }
    expect(
      await repo.revokeFamily(
        (await familyOf(a.body.refresh_token as string)).id,
        'again',
        server.clock.now(),
      ),
    ).toBe(false);
  });

  it.each([
    ['missing refresh_token', 'invalid_request', {}],
    ['empty refresh_token', 'invalid_request', { refresh_token: '' }],
  ])('%s → 400 %s', async (_name, error, params: Record<string, string>) => {
    const res = await token(server, app, { grant_type: 'refresh_token', ...params });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(error);
  });
});
