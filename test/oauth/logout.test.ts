import { startTestServer, type TestServer } from '../support/server';
import {
  clientCredentials,
  introspect,
  login,
  newClient,
  newUser,
  refresh,
  type TestClient,
} from '../support/tokens';

let server: TestServer;
let app: TestClient;
let other: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  app = await newClient(server);
  other = await newClient(server);
});
afterAll(async () => {
  await server?.stop();
});

const logout = (headers: Record<string, string>) =>
  fetch(`${server.url}/logout`, { method: 'POST', headers });

describe("POST /logout (bearer): end all of the user's sessions", () => {
  it('revokes every family of the user with every client, and the presented access token', async () => {
    const user = await newUser(server);
    const bystanderUser = await newUser(server);
    const a = await login(server, app, user);
    const b = await login(server, other, user);
    const bystander = await login(server, app, bystanderUser);

    const res = await logout({ authorization: `Bearer ${a.access_token}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ sessions_ended: 2 });

    expect(await introspect(server, app, a.access_token)).toEqual({ active: false });
    expect(await introspect(server, other, b.access_token)).toEqual({ active: false });
    for (const [c, t] of [
      [app, a],
      [other, b],
    ] as const) {
      const r = await refresh(server, c, t.refresh_token!);
      expect(r.status).toBe(400);
      expect((await r.json()).error).toBe('invalid_grant');
    }
    expect((await introspect(server, app, bystander.refresh_token!)).active).toBe(true);
    expect(
      (await server.services.audit.list({ userId: user.id, type: 'user.sessions_revoked' })).length,
    ).toBe(1);

    // The token is now revoked, so a second logout is refused.
    expect((await logout({ authorization: `Bearer ${a.access_token}` })).status).toBe(401);
  });

  it('a user can log in again afterwards', async () => {
    const user = await newUser(server);
    const t = await login(server, app, user);
    await logout({ authorization: `Bearer ${t.access_token}` });
    const again = await login(server, app, user);
    expect((await introspect(server, app, again.access_token)).active).toBe(true);
  });

  it.each<[string, () => Promise<Record<string, string>>, number, string]>([
    ['no token', async () => ({}), 401, 'invalid_token'],
    ['a forged token', async () => ({ authorization: 'Bearer aaa.bbb.ccc' }), 401, 'invalid_token'],
    [
      'a client_credentials token',
      async () => ({
        authorization: `Bearer ${(await clientCredentials(server, app)).access_token}`,
      }),
      401,
      'invalid_token',
    ],
    [
      'Basic client credentials instead of a bearer token',
      async () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }),
      401,
      'invalid_token',
    ],
  ])('%s → %i %s', async (_name, headers, status, error) => {
    const res = await logout(await headers());
    expect(res.status).toBe(status);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await res.json()).error).toBe(error);
  });
});
