import { startTestServer, type TestServer } from '../../support/server';
import { decodeJwt, makeClient, post, token, type TestClient } from '../../support/fixtures';

let server: TestServer;
let service: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  service = await makeClient(server, {
    grantTypes: ['client_credentials'],
    audiences: ['https://api.example.com'],
    scopes: ['openid', 'api:read', 'api:write'],
  });
});
afterAll(async () => {
  await server?.stop();
});

describe('client_credentials grant', () => {
  it('issues an access token for the client itself: sub = client_id, no refresh or ID token', async () => {
    const res = await token(server, service, {
      grant_type: 'client_credentials',
      scope: 'api:read',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'api:read',
    });
    const { header, payload } = decodeJwt(res.body.access_token as string);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    expect(payload).toMatchObject({
      sub: service.client.id,
      client_id: service.client.id,
      aud: 'https://api.example.com',
      scope: 'api:read',
    });
    expect(payload.auth_time).toBeUndefined();
    expect(payload.roles).toBeUndefined();
  });

  it('defaults to every non-OpenID scope of the client', async () => {
    const res = await token(server, service, { grant_type: 'client_credentials' });
    expect(res.body.scope).toBe('api:read api:write');
  });

  it('uses the client signing algorithm and lifetime', async () => {
    const es = await makeClient(server, {
      grantTypes: ['client_credentials'],
      signingAlg: 'ES256',
      accessTokenTtl: 60,
      scopes: ['api:read'],
    });
    const res = await token(server, es, { grant_type: 'client_credentials' });
    expect(res.body.expires_in).toBe(60);
    const { header, payload } = decodeJwt(res.body.access_token as string);
    expect(header.alg).toBe('ES256');
    expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    expect(payload.aud).toBe(es.client.id);
  });

  it.each([
    ['openid (no user here)', 400, 'invalid_scope', { scope: 'openid' }],
    ['a scope the client lacks', 400, 'invalid_scope', { scope: 'api:admin' }],
  ])('refuses %s → %i %s', async (_name, status, error, extra: Record<string, string>) => {
    const res = await token(server, service, { grant_type: 'client_credentials', ...extra });
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });

  it('refuses a client that does not list the grant (unauthorized_client)', async () => {
    const c = await makeClient(server, { grantTypes: ['password'] });
    const res = await token(server, c, { grant_type: 'client_credentials' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });

  it('refuses public clients', async () => {
    const pub = await makeClient(server, { isPublic: true, grantTypes: ['password'] });
    const res = await post(server, '/token', {
      grant_type: 'client_credentials',
      client_id: pub.client.id,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });
});
