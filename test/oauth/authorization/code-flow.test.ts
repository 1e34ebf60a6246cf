import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../../support/server';
import {
  authorizeUrl,
  codeRequest,
  exchangeCode,
  hiddenFields,
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

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

describe('authorization code flow (happy path)', () => {
  it('login → consent → redirect with code, state and iss → tokens with nonce, auth_time, at_hash', async () => {
    const browser = new HttpBrowser();
    const pkce = pkcePair();
    const login = await readPage(
      await browser.get(authorizeUrl(server, codeRequest(rp.client, pkce))),
    );
    expect(login).toMatchObject({ kind: 'login', status: 200 });
    const consent = await readPage(
      await browser.post(`${server.url}/login`, {
        ...hiddenFields((login as { html: string }).html),
        email: user.email,
        password: 'correct horse battery staple',
      }),
    );
    expect(consent.kind).toBe('consent');
    const html = (consent as { html: string }).html;
    expect(html).toContain('Example App');
    expect(html).toContain('See your email address');
    const done = await readPage(
      await browser.post(`${server.url}/consent`, { ...hiddenFields(html), decision: 'allow' }),
    );
    expect(done).toMatchObject({ kind: 'redirect', status: 303 });
    const location = (done as { location: URL }).location;
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(server.config.issuer);
    const code = location.searchParams.get('code')!;
    expect(Buffer.from(code, 'base64url').length).toBeGreaterThanOrEqual(16);

    const res = await exchangeCode(server, rp, { code, code_verifier: pkce.verifier });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      scope: 'openid profile email offline_access',
    });
    const id = decodeJwt(res.body.id_token as string);
    expect(id).toMatchObject({
      iss: server.config.issuer,
      sub: user.id,
      aud: rp.client.id,
      nonce: 'n-456',
    });
    expect(typeof id.auth_time).toBe('number');
    expect(typeof id.at_hash).toBe('string');
    expect(typeof res.body.refresh_token).toBe('string');
  });

  it('SSO: a second authorization reuses the session and the remembered consent', async () => {
    const browser = new HttpBrowser();
    await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(rp.client, pkcePair())),
      user.email,
    );
    const again = await readPage(
      await browser.get(authorizeUrl(server, codeRequest(rp.client, pkcePair(), { state: 'two' }))),
    );
    expect(again).toMatchObject({ kind: 'redirect', status: 302 });
    expect((again as { location: URL }).location.searchParams.get('code')).toBeTruthy();
  });

  it('first-party clients skip the consent page', async () => {
    const first = await makeClient(server, { firstParty: true });
    const browser = new HttpBrowser();
    const login = await readPage(
      await browser.get(authorizeUrl(server, codeRequest(first.client, pkcePair()))),
    );
    const next = await readPage(
      await browser.post(`${server.url}/login`, {
        ...hiddenFields((login as { html: string }).html),
        email: user.email,
        password: 'correct horse battery staple',
      }),
    );
    expect(next.kind).toBe('redirect');
  });
});
