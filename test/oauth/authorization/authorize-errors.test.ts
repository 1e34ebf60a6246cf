import { startTestServer, type TestServer } from '../../support/server';
import {
  authorizeUrl,
  codeRequest,
  HttpBrowser,
  makeClient,
  makeUser,
  pkcePair,
  readPage,
  REDIRECT,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;
let pub: FlowClient;
let noCodeGrant: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server);
  pub = await makeClient(server, { isPublic: true });
  noCodeGrant = await makeClient(server, { grantTypes: ['client_credentials'] });
});
afterAll(async () => {
  await server?.stop();
});

describe('/authorize: untrusted client or redirect URI → an error page, never a redirect', () => {
  it.each([
    ['unknown client', { client_id: 'no-such-client' }],
    ['missing client_id', { client_id: undefined }],
    ['redirect_uri not registered', { redirect_uri: 'https://evil.example/cb' }],
    ['redirect_uri differing by a trailing slash', { redirect_uri: `${REDIRECT}/` }],
    ['redirect_uri with an extra query', { redirect_uri: `${REDIRECT}?x=1` }],
    ['redirect_uri differing in case', { redirect_uri: REDIRECT.toUpperCase() }],
    ['missing redirect_uri', { redirect_uri: undefined }],
  ])('%s', async (_name, extra) => {
    const res = await new HttpBrowser().get(
      authorizeUrl(server, codeRequest(rp.client, pkcePair(), extra)),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('repeated parameters get a page too', async () => {
    const url = `${authorizeUrl(server, codeRequest(rp.client, pkcePair()))}&scope=openid`;
    const res = await new HttpBrowser().get(url);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});

describe('/authorize: other errors redirect with error, state and iss (RFC 6749 §4.1.2.1, RFC 9207)', () => {
  it.each([
    [
      'an unsigned request object',
      'invalid_request_object',
      'rp',
      { request: 'eyJhbGciOiJub25lIn0.e30.' },
    ],
    [
      'a request_uri',
      'request_uri_not_supported',
      'rp',
      { request_uri: 'https://rp.example/req.jwt' },
    ],
    [
      'response_type=token (implicit)',
      'unsupported_response_type',
      'rp',
      { response_type: 'token' },
    ],
    [
      'response_type=code id_token (hybrid)',
      'unsupported_response_type',
      'rp',
      { response_type: 'code id_token' },
    ],
    ['no response_type', 'invalid_request', 'rp', { response_type: undefined }],
    ['code_challenge_method=plain', 'invalid_request', 'rp', { code_challenge_method: 'plain' }],
    ['a challenge without a method', 'invalid_request', 'rp', { code_challenge_method: undefined }],
    ['a malformed S256 challenge', 'invalid_request', 'rp', { code_challenge: 'short' }],
    [
      'a public client without PKCE',
      'invalid_request',
      'pub',
      { code_challenge: undefined, code_challenge_method: undefined },
    ],
    ['a scope the client may not use', 'invalid_scope', 'rp', { scope: 'openid admin' }],
    ['no scope', 'invalid_scope', 'rp', { scope: undefined }],
    ['prompt=none combined with login', 'invalid_request', 'rp', { prompt: 'none login' }],
    ['an unknown prompt value', 'invalid_request', 'rp', { prompt: 'dance' }],
    ['a non-numeric max_age', 'invalid_request', 'rp', { max_age: 'soon' }],
    [
      'a forged id_token_hint',
      'invalid_request',
      'rp',
      { id_token_hint: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' },
    ],
    ['response_mode=fragment', 'invalid_request', 'rp', { response_mode: 'fragment' }],
    ['prompt=none without a session', 'login_required', 'rp', { prompt: 'none' }],
    ['a client not allowed the code flow', 'unauthorized_client', 'noCodeGrant', {}],
  ])('%s → %s', async (_name, error, which, extra) => {
    const fc = { rp, pub, noCodeGrant }[which as 'rp' | 'pub' | 'noCodeGrant'];
    const res = await new HttpBrowser().get(
      authorizeUrl(server, codeRequest(fc.client, pkcePair(), extra)),
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('error_description')).toBeTruthy();
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(server.config.issuer);
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('prompt=none with a session but no consent → consent_required', async () => {
    const browser = new HttpBrowser();
    const first = await makeClient(server, { firstParty: true });
    await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(first.client, pkcePair())),
      user.email,
    );
    const page = await readPage(
      await browser.get(
        authorizeUrl(server, codeRequest(rp.client, pkcePair(), { prompt: 'none' })),
      ),
    );
    expect(page.kind).toBe('redirect');
    expect((page as { location: URL }).location.searchParams.get('error')).toBe('consent_required');
  });

  it('prompt=none with a session and consent → a code, without any page', async () => {
    const browser = new HttpBrowser();
    await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(rp.client, pkcePair())),
      user.email,
    );
    const page = await readPage(
      await browser.get(
        authorizeUrl(server, codeRequest(rp.client, pkcePair(), { prompt: 'none' })),
      ),
    );
    expect(page.kind).toBe('redirect');
    expect((page as { location: URL }).location.searchParams.get('code')).toBeTruthy();
  });

  it('POST /authorize is accepted like GET (OIDC Core §3.1.2.1)', async () => {
    const params = Object.fromEntries(
      Object.entries(codeRequest(rp.client, pkcePair())).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const page = await readPage(await new HttpBrowser().post(`${server.url}/authorize`, params));
    expect(page).toMatchObject({ kind: 'login', status: 200 });
  });
});
