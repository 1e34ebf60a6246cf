import { startTestServer, type TestServer } from '../support/server';
import { basic, basicAuth, makeClient, post, type TestClient } from '../support/fixtures';

let server: TestServer;
let conf: TestClient;
let pub: TestClient;

const cc = { grant_type: 'client_credentials' };

beforeAll(async () => {
  server = await startTestServer();
  conf = await makeClient(server, { scopes: ['api:read'] });
  pub = await makeClient(server, {
    isPublic: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['api:read'],
  });
});
afterAll(async () => {
  await server?.stop();
});

/** Percent-encodes every character, as RFC 6749 §2.3.1's form-urlencoding allows. */
const encodeAll = (s: string) =>
  [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');

describe('client authentication at /token', () => {
  it('client_secret_basic', async () => {
    expect(
      (await post(server, '/token', cc, { headers: { authorization: basic(conf) } })).status,
    ).toBe(200);
  });

  it('client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)', async () => {
    const header = `Basic ${Buffer.from(`${encodeAll(conf.client.id)}:${encodeAll(conf.secret!)}`).toString('base64')}`;
    expect((await post(server, '/token', cc, { headers: { authorization: header } })).status).toBe(
      200,
    );
  });

  it('client_secret_post', async () => {
    expect(
      (
        await post(server, '/token', {
          ...cc,
          client_id: conf.client.id,
          client_secret: conf.secret!,
        })
      ).status,
    ).toBe(200);
  });

  it('none: a public client sends only its client_id', async () => {
    const res = await post(server, '/token', {
      grant_type: 'refresh_token',
      refresh_token: 'unknown',
      client_id: pub.client.id,
    });
    // Authenticated (so the grant ran and refused the token), not invalid_client.
    expect(res.body.error).toBe('invalid_grant');
  });

  it.each<
    [
      string,
      () => { params: Record<string, string>; headers?: Record<string, string> },
      number,
      string,
      boolean,
    ]
  >([
    [
      'wrong secret (Basic)',
      () => ({ params: cc, headers: { authorization: basicAuth(conf.client.id, 'wrong') } }),
      401,
      'invalid_client',
      true,
    ],
    [
      'unknown client (Basic)',
      () => ({ params: cc, headers: { authorization: basicAuth('no-such-client', 'x') } }),
      401,
      'invalid_client',
      true,
    ],
    [
      'malformed Basic',
      () => ({ params: cc, headers: { authorization: 'Basic !!!' } }),
      401,
      'invalid_client',
      true,
    ],
    [
      'Basic without a colon',
      () => ({
        params: cc,
        headers: { authorization: `Basic ${Buffer.from('abc').toString('base64')}` },
      }),
      401,
      'invalid_client',
      true,
    ],
    [
      'another Authorization scheme',
      () => ({ params: cc, headers: { authorization: 'Bearer abc' } }),
      401,
      'invalid_client',
      true,
    ],
    [
      'wrong secret (post)',
      () => ({ params: { ...cc, client_id: conf.client.id, client_secret: 'wrong' } }),
      401,
      'invalid_client',
      false,
    ],
    ['no credentials at all', () => ({ params: cc }), 401, 'invalid_client', false],
    [
      'a confidential client without its secret',
      () => ({ params: { ...cc, client_id: conf.client.id } }),
      401,
      'invalid_client',
      false,
    ],
    [
      'a public client presenting a secret',
      () => ({ params: { ...cc, client_id: pub.client.id, client_secret: 'x' } }),
      401,
      'invalid_client',
      false,
    ],
    [
      'Basic and client_secret together',
      () => ({
        params: { ...cc, client_secret: conf.secret! },
        headers: { authorization: basic(conf) },
      }),
      400,
      'invalid_request',
      false,
    ],
    [
      'Basic and a different body client_id',
      () => ({
        params: { ...cc, client_id: pub.client.id },
        headers: { authorization: basic(conf) },
      }),
      400,
      'invalid_request',
      false,
    ],
  ])('%s → %i %s', async (_name, arrange, status, error, challenge) => {
    const { params, headers } = arrange();
    const res = await post(server, '/token', params, { headers: headers ?? {} });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error, error_description: expect.any(String) });
    if (challenge) expect(res.headers.get('www-authenticate')).toBe('Basic realm="tessera"');
    else expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('a disabled client is refused once its cached record expires (a few seconds)', async () => {
    const c = await makeClient(server, { scopes: ['api:read'] });
    expect(
      (await post(server, '/token', cc, { headers: { authorization: basic(c) } })).status,
    ).toBe(200);
    await server.services.clients.setDisabled(c.client.id, true);
    server.clock.advance(6);
    const res = await post(server, '/token', cc, { headers: { authorization: basic(c) } });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });
});

describe('the /token request itself', () => {
  it.each<[string, Record<string, string>, number, string]>([
    ['missing grant_type', {}, 400, 'invalid_request'],
    ['unknown grant_type', { grant_type: 'urn:example:magic' }, 400, 'unsupported_grant_type'],
    ['implicit is not a token grant', { grant_type: 'implicit' }, 400, 'unsupported_grant_type'],
  ])('%s → %i %s', async (_name, params, status, error) => {
    const res = await post(server, '/token', params, { headers: { authorization: basic(conf) } });
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('a repeated parameter is invalid_request (RFC 6749 §3.1)', async () => {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(conf) },
      body: 'grant_type=client_credentials&scope=api%3Aread&scope=api%3Aread',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_request');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('other content types are refused with 415', async () => {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: basic(conf) },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(415);
    expect((await res.json()).error).toBe('invalid_request');
  });

  it('GET /token is 405', async () => {
    const res = await fetch(`${server.url}/token`);
    expect(res.status).toBe(405);
  });
});
