import { startTestServer, type TestServer } from '../../support/server';
import {
  authorizeUrl,
  codeRequest,
  exchangeCode,
  hiddenFields,
  HttpBrowser,
  LOGOUT_REDIRECT,
  makeClient,
  makeUser,
  pkcePair,
  readPage,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;
let other: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server, { firstParty: true });
  other = await makeClient(server, {
    firstParty: true,
    postLogoutRedirectUris: ['https://other.example/bye'],
  });
});
afterAll(async () => {
  await server?.stop();
});

/** Signs in through the pages and redeems the code: a browser with a session, and its tokens. */
async function signedIn(): Promise<{
  browser: HttpBrowser;
  idToken: string;
  refreshToken: string;
}> {
  const browser = new HttpBrowser();
  const pkce = pkcePair();
  const loc = await signIn(
    browser,
    server,
    authorizeUrl(server, codeRequest(rp.client, pkce)),
    user.email,
  );
  const tokens = await exchangeCode(server, rp, {
    code: loc.searchParams.get('code')!,
    code_verifier: pkce.verifier,
  });
  return {
    browser,
    idToken: tokens.body.id_token as string,
    refreshToken: tokens.body.refresh_token as string,
  };
}

async function hasSession(browser: HttpBrowser): Promise<boolean> {
  const page = await readPage(
    await browser.get(authorizeUrl(server, codeRequest(rp.client, pkcePair(), { prompt: 'none' }))),
  );
  return (page as { location: URL }).location.searchParams.get('error') !== 'login_required';
}

async function refreshStatus(refreshToken: string): Promise<number> {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${rp.client.id}:${rp.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }).toString(),
  });
  return res.status;
}

function endSessionUrl(params: Record<string, string>): string {
  return `${server.url}/session/end?${new URLSearchParams(params).toString()}`;
}

describe('RP-initiated logout (/session/end)', () => {
  it('with a valid id_token_hint: ends the session, revokes its refresh tokens, redirects with state', async () => {
    const { browser, idToken, refreshToken } = await signedIn();
    expect(await hasSession(browser)).toBe(true);
    const res = await browser.get(
      endSessionUrl({
        id_token_hint: idToken,
        post_logout_redirect_uri: LOGOUT_REDIRECT,
        state: 'bye-1',
      }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${LOGOUT_REDIRECT}?state=bye-1`);
    expect(await hasSession(browser)).toBe(false);
    expect(await refreshStatus(refreshToken)).toBe(400);
  });

  it('an expired id_token_hint of the current session still signs out (its sid names the live session)', async () => {
    const { browser, idToken } = await signedIn();
    server.clock.advance(server.config.ID_TOKEN_TTL + 120);
    const res = await browser.get(
      endSessionUrl({ id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_REDIRECT }),
    );
    expect(res.status).toBe(302);
    expect(await hasSession(browser)).toBe(false);
  });

  it('without a hint: a confirmation page, whose CSRF-protected POST signs out', async () => {
    const { browser, refreshToken } = await signedIn();
    const confirm = await readPage(
      await browser.get(
        endSessionUrl({
          client_id: rp.client.id,
          post_logout_redirect_uri: LOGOUT_REDIRECT,
          state: 's',
        }),
      ),
    );
    expect(confirm.kind).toBe('logout');
    expect(await hasSession(browser)).toBe(true);
    const fields = hiddenFields((confirm as { html: string }).html);

    const forged = await browser.post(`${server.url}/session/end`, {
      ...fields,
      csrf_token: 'forged',
    });
    expect(forged.status).toBe(403);
    expect(await hasSession(browser)).toBe(true);

    const done = await browser.post(`${server.url}/session/end`, fields);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${LOGOUT_REDIRECT}?state=s`);
    expect(await hasSession(browser)).toBe(false);
    expect(await refreshStatus(refreshToken)).toBe(400);
  });

  it('a cross-site GET without a hint cannot sign the user out', async () => {
    const { browser } = await signedIn();
    await browser.get(endSessionUrl({}));
    expect(await hasSession(browser)).toBe(true);
  });

  it.each([
    [
      'an unregistered post_logout_redirect_uri',
      (t: string) => ({ id_token_hint: t, post_logout_redirect_uri: 'https://evil.example/' }),
    ],
    [
      'a post_logout_redirect_uri without hint or client_id',
      () => ({ post_logout_redirect_uri: LOGOUT_REDIRECT }),
    ],
    [
      "another client's post_logout_redirect_uri",
      (t: string) => ({ id_token_hint: t, post_logout_redirect_uri: 'https://other.example/bye' }),
    ],
    [
      'a client_id that does not match the hint',
      (t: string) => ({ id_token_hint: t, client_id: other.client.id }),
    ],
    [
      'a forged id_token_hint',
      () => ({ id_token_hint: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' }),
    ],
  ])('%s → an error page, no redirect, session kept', async (_name, params) => {
    const { browser, idToken } = await signedIn();
    const res = await browser.get(endSessionUrl(params(idToken)));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await hasSession(browser)).toBe(true);
  });

  it('without a session and without a redirect: the signed-out page', async () => {
    const res = await new HttpBrowser().get(endSessionUrl({}));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are signed out');
  });
});
