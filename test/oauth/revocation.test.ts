import type { UserRecord } from '../../src/accounts/user-storage';
import { startTestServer, type TestServer } from '../support/server';
import {
  basic,
  clientCredentials,
  decodePayload,
  introspect,
  login,
  newClient,
  newUser,
  postForm,
  refresh,
  revoke,
  type TestClient,
} from '../support/tokens';

let server: TestServer;
let app: TestClient;
let other: TestClient;
let publicApp: TestClient;
let user: UserRecord;

beforeAll(async () => {
  server = await startTestServer();
  app = await newClient(server);
  other = await newClient(server);
  publicApp = await newClient(server, {
    isPublic: true,
    firstParty: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['openid', 'offline_access'],
  });
  user = await newUser(server);
});
afterAll(async () => {
  await server?.stop();
});

const userinfoStatus = async (accessToken: string) =>
  (await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } }))
    .status;

async function auditTypes(userId: string): Promise<string[]> {
  return (await server.services.audit.list({ userId })).map((e) => e.type);
}

describe('POST /revoke (RFC 7009)', () => {
  it('an access token: 200 empty body, no-store; then inactive and refused by userinfo, its refresh token unaffected', async () => {
    const t = await login(server, app, user);
    expect(await userinfoStatus(t.access_token)).toBe(200);
    const res = await revoke(server, app, t.access_token, { token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
    expect(await introspect(server, app, t.access_token)).toEqual({ active: false });
    expect(await userinfoStatus(t.access_token)).toBe(401);
    // RFC 7009 §2.1: revoking an access token need not end the grant.
    expect((await introspect(server, app, t.refresh_token!)).active).toBe(true);
    expect(await auditTypes(user.id)).toContain('token.revoked');
  });

  it('a refresh token kills its family: the access token issued with it, and refreshing fails with invalid_grant', async () => {
    const first = await login(server, app, user);
    const rotated = await refresh(server, app, first.refresh_token!);
    expect(rotated.status).toBe(200);
    const current = (await rotated.json()) as { access_token: string; refresh_token: string };

    const res = await revoke(server, app, current.refresh_token, {
      token_type_hint: 'refresh_token',
    });
    expect(res.status).toBe(200);

    expect(await introspect(server, app, current.refresh_token)).toEqual({ active: false });
    expect(await introspect(server, app, current.access_token)).toEqual({ active: false });
    expect(await userinfoStatus(current.access_token)).toBe(401);
    const again = await refresh(server, app, current.refresh_token);
    expect(again.status).toBe(400);
    expect((await again.json()).error).toBe('invalid_grant');
  });

  it.each([
    ['no hint', {}],
    ['a wrong hint', { token_type_hint: 'access_token' }],
    ['an unknown hint value', { token_type_hint: 'id_token' }],
  ])('a refresh token is found with %s', async (_name, extra) => {
    const t = await login(server, app, user);
    expect((await revoke(server, app, t.refresh_token!, extra)).status).toBe(200);
    expect(await introspect(server, app, t.refresh_token!)).toEqual({ active: false });
  });

  it.each([
    ['an unknown opaque token', 'x'.repeat(43)],
    ['a malformed JWT', 'a.b.c'],
    ['garbage', '%%%'],
  ])('%s → 200 and nothing happens', async (_name, token) => {
    const res = await revoke(server, app, token);
    expect(res.status).toBe(200);
  });

  it("another client's tokens → 200, and they stay active", async () => {
    const t = await login(server, other, user);
    expect((await revoke(server, app, t.refresh_token!)).status).toBe(200);
    expect((await revoke(server, app, t.access_token)).status).toBe(200);
    expect((await introspect(server, other, t.refresh_token!)).active).toBe(true);
    expect((await introspect(server, other, t.access_token)).active).toBe(true);
    expect((await refresh(server, other, t.refresh_token!)).status).toBe(200);
  });

  it('a client_credentials access token can be revoked by its client', async () => {
    const cc = await clientCredentials(server, app);
    expect((await revoke(server, app, cc.access_token)).status).toBe(200);
    expect(await introspect(server, app, cc.access_token)).toEqual({ active: false });
  });

  it('a public client revokes its own refresh token with client_id only (RFC 7009 §2.1)', async () => {
    const res = await postForm(server, '/token', {
      grant_type: 'password',
      client_id: publicApp.client.id,
      username: user.email,
      password: 'correct horse battery staple',
      scope: 'openid offline_access',
    });
    expect(res.status).toBe(200);
    const t = (await res.json()) as { refresh_token: string };
    expect(
      (
        await postForm(server, '/revoke', {
          token: t.refresh_token,
          client_id: publicApp.client.id,
        })
      ).status,
    ).toBe(200);
    const again = await postForm(server, '/token', {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      client_id: publicApp.client.id,
    });
    expect((await again.json()).error).toBe('invalid_grant');
  });

  it('revoking twice is harmless', async () => {
    const t = await login(server, app, user);
    expect((await revoke(server, app, t.refresh_token!)).status).toBe(200);
    expect((await revoke(server, app, t.refresh_token!)).status).toBe(200);
    expect((await revoke(server, app, t.access_token)).status).toBe(200);
  });

  it('logout_all=true ends every session of the user, with every client', async () => {
    const victim = await newUser(server);
    const a1 = await login(server, app, victim);
    const a2 = await login(server, app, victim);
    const b = await login(server, other, victim);
    const bystander = await login(server, app, user);

    expect((await revoke(server, app, a1.refresh_token!, { logout_all: 'true' })).status).toBe(200);

    for (const [caller, t] of [
      [app, a1],
      [app, a2],
      [other, b],
    ] as const) {
      expect(await introspect(server, caller, t.refresh_token!)).toEqual({ active: false });
      expect(await introspect(server, caller, t.access_token)).toEqual({ active: false });
    }
    expect((await introspect(server, app, bystander.refresh_token!)).active).toBe(true);
    expect(await auditTypes(victim.id)).toContain('user.sessions_revoked');
  });

  it("logout_all with another client's token does nothing", async () => {
    const victim = await newUser(server);
    const t = await login(server, other, victim);
    expect((await revoke(server, app, t.refresh_token!, { logout_all: 'true' })).status).toBe(200);
    expect((await introspect(server, other, t.refresh_token!)).active).toBe(true);
  });

  it('the revoked jti is denied only until the token would have expired anyway', async () => {
    const t = await login(server, app, user);
    await revoke(server, app, t.access_token);
    const { jti, exp } = decodePayload(t.access_token) as { jti: string; exp: number };
    const row = await server.services.db.prisma.revokedAccessToken.findUnique({ where: { jti } });
    expect(row!.expiresAt.getTime()).toBe(exp * 1000);
  });

  it.each<[string, number, string, Record<string, string>, Record<string, string>]>([
    ['no client credentials', 401, 'invalid_client', { token: 'x' }, {}],
    [
      'a wrong secret',
      401,
      'invalid_client',
      { token: 'x' },
      { authorization: `Basic ${Buffer.from('nobody:nothing').toString('base64')}` },
    ],
    ['no token', 400, 'invalid_request', {}, { auth: 'yes' }],
    [
      'a bad logout_all',
      400,
      'invalid_request',
      { token: 'x', logout_all: 'maybe' },
      { auth: 'yes' },
    ],
  ])('%s → %i %s', async (_name, status, error, form, headers) => {
    const h: Record<string, string> = headers.auth ? { authorization: basic(app) } : headers;
    const res = await postForm(server, '/revoke', form, h);
    expect(res.status).toBe(status);
    expect((await res.json()).error).toBe(error);
  });
});

describe('revoked_access_tokens housekeeping', () => {
  it('purgeExpired drops only rows whose token has expired anyway', async () => {
    const repo = server.services.revokedAccessTokens;
    const now = server.clock.now();
    await repo.revoke('purge-old', new Date(now.getTime() - 1000), 'test');
    await repo.revoke('purge-live', new Date(now.getTime() + 600_000), 'test');
    expect(await repo.revoke('purge-live', new Date(now.getTime() + 600_000), 'test')).toBe(false);
    expect(await repo.purgeExpired(now)).toBeGreaterThanOrEqual(1);
    expect(await repo.isRevoked('purge-old')).toBe(false);
    expect(await repo.isRevoked('purge-live')).toBe(true);
  });
});
