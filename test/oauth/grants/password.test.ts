import argon2 from 'argon2';
import { startTestServer, type TestServer } from '../../support/server';
import {
  decodeJwt,
  makeClient,
  makeUser,
  PASSWORD,
  passwordLogin,
  post,
  token,
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

describe('password grant', () => {
  it('logs a user in: access token, refresh token, ID token, no-store', async () => {
    const user = await makeUser(server, { roles: ['admin'] });
    const res = await passwordLogin(server, app, user);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'openid profile email offline_access api:read',
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      id_token: expect.any(String),
    });
    const at = decodeJwt(res.body.access_token as string);
    expect(at.header).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: expect.any(String) });
    expect(at.payload).toMatchObject({
      iss: server.config.issuer,
      sub: user.id,
      aud: app.client.id,
      client_id: app.client.id,
      roles: ['admin'],
      auth_time: expect.any(Number),
    });
  });

  it('accepts JSON bodies with the same field names', async () => {
    const user = await makeUser(server);
    const res = await post(
      server,
      '/token',
      {
        grant_type: 'password',
        username: user.email,
        password: PASSWORD,
        client_id: app.client.id,
        client_secret: app.secret!,
      },
      { json: true },
    );
    expect(res.status).toBe(200);
    // Without a scope parameter the client's scopes are granted (RFC 6749 §3.3 default).
    expect(res.body.scope).toBe(app.client.scopes.join(' '));
  });

  it('gives no ID token without openid and no refresh token to a client without the refresh grant', async () => {
    const noRefresh = await makeClient(server, { grantTypes: ['password'] });
    const user = await makeUser(server);
    const res = await passwordLogin(server, noRefresh, user, { scope: 'api:read' });
    expect(res.status).toBe(200);
    expect(res.body.id_token).toBeUndefined();
    expect(res.body.refresh_token).toBeUndefined();
  });

  it('returns the same generic invalid_grant for unknown user, wrong password and disabled user', async () => {
    const user = await makeUser(server);
    const disabled = await makeUser(server);
    await server.services.users.setDisabled(disabled.id, true, new Date());
    const dummy = jest.spyOn(server.services.passwords, 'verifyDummy');
    try {
      const replies = await Promise.all([
        passwordLogin(server, app, { email: 'nobody-here@example.com' }, {}, { ip: '10.9.0.1' }),
        token(server, app, {
          grant_type: 'password',
          username: user.email,
          password: 'wrong password!',
        }),
        passwordLogin(server, app, disabled),
      ]);
      for (const r of replies) {
        expect(r.status).toBe(400);
        expect(r.body).toEqual({
          error: 'invalid_grant',
          error_description: 'Invalid username or password',
        });
      }
      // The unknown account paid a (dummy) argon2 verification, exactly once.
      expect(dummy).toHaveBeenCalledTimes(1);
    } finally {
      dummy.mockRestore();
    }
  });

  it('rehashes a password made with other argon2 parameters, transparently', async () => {
    const user = await makeUser(server);
    const old = await argon2.hash(PASSWORD, {
      type: argon2.argon2id,
      memoryCost: 2048,
      timeCost: 1,
      parallelism: 1,
    });
    await server.services.users.updatePasswordHash(user.id, user.passwordHash, old);
    expect((await passwordLogin(server, app, user)).status).toBe(200);
    const after = await server.services.users.findById(user.id);
    expect(after!.passwordHash).not.toBe(old);
    expect(server.services.passwords.needsRehash(after!.passwordHash)).toBe(false);
    expect((await passwordLogin(server, app, user)).status).toBe(200);
  });

  it('refuses a first-party client that does not list the password grant', async () => {
    const c = await makeClient(server, { grantTypes: ['client_credentials'] });
    const user = await makeUser(server);
    const res = await passwordLogin(server, c, user);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });

  it.each([
    ['missing username', 400, 'invalid_request', { username: undefined }],
    ['missing password', 400, 'invalid_request', { password: undefined }],
    ['scope outside the client', 400, 'invalid_scope', { scope: 'openid admin:all' }],
    ['scope with an invalid character', 400, 'invalid_scope', { scope: 'openid "x"' }],
  ])('%s → %i %s', async (_name, status, error, change: Record<string, string | undefined>) => {
    const user = await makeUser(server);
    const params: Record<string, string> = {
      grant_type: 'password',
      username: user.email,
      password: PASSWORD,
    };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete params[k];
      else params[k] = v;
    }
    const res = await token(server, app, params);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });

  it('records login success and failure in the audit log', async () => {
    const user = await makeUser(server);
    await token(server, app, {
      grant_type: 'password',
      username: user.email,
      password: 'nope nope nope',
    });
    await passwordLogin(server, app, user);
    const types = (await server.services.audit.list({ userId: user.id })).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['login.failure', 'login.success']));
  });
});
