/**
 * Which id_token_hint lets /session/end sign the browser out without asking (OpenID Connect
 * RP-Initiated Logout 1.0 §2, §4): only an ID token of the browser's current session — its
 * `sid` is that session's and its `sub` the session's user — expired or not. Any other hint
 * (another session's, one without `sid` such as the password grant's, another user's) gets the
 * confirmation page, so `<img src=/session/end?id_token_hint=…>` on another site cannot end
 * the SSO session. A hint we did not sign, or no JWT at all, is refused with 400.
 */
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
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
  PASSWORD,
  pkcePair,
  readPage,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let user: UserRecord;
let otherUser: UserRecord;
let rp: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  otherUser = await makeUser(server);
  rp = await makeClient(server, {
    firstParty: true,
    grantTypes: ['authorization_code', 'refresh_token', 'password'],
  });
});
afterAll(async () => {
  await server?.stop();
});

/** Signs `who` in through the pages in `browser` and redeems the code; returns the ID token. */
async function codeFlowIdToken(
  browser: HttpBrowser,
  who: UserRecord = user,
  extra: Record<string, string> = {},
): Promise<string> {
  const pkce = pkcePair();
  const loc = await signIn(
    browser,
    server,
    authorizeUrl(server, codeRequest(rp.client, pkce, extra)),
    who.email,
  );
  const tokens = await exchangeCode(server, rp, {
    code: loc.searchParams.get('code')!,
    code_verifier: pkce.verifier,
  });
  return tokens.body.id_token as string;
}

async function passwordGrant(who: UserRecord): Promise<Record<string, string>> {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${rp.client.id}:${rp.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'password',
      username: who.email,
      password: PASSWORD,
      scope: 'openid',
    }).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

async function hasSession(browser: HttpBrowser): Promise<boolean> {
  const page = await readPage(
    await browser.get(authorizeUrl(server, codeRequest(rp.client, pkcePair(), { prompt: 'none' }))),
  );
  return (page as { location: URL }).location.searchParams.get('error') !== 'login_required';
}

function endSessionUrl(params: Record<string, string>): string {
  return `${server.url}/session/end?${new URLSearchParams(params).toString()}`;
}

const expire = () => server.clock.advance(server.config.ID_TOKEN_TTL + 120);

/** A signed-in browser and the hint it is sent to /session/end with. */
type Arrange = (browser: HttpBrowser) => Promise<string>;

const currentSession: Arrange = (browser) => codeFlowIdToken(browser);
const currentSessionExpired: Arrange = async (browser) => {
  const hint = await codeFlowIdToken(browser);
  expire();
  return hint;
};
const passwordGrantOfSameUser: Arrange = async (browser) => {
  await codeFlowIdToken(browser);
  return (await passwordGrant(user)).id_token!;
};
const otherSessionOfSameUser: Arrange = async (browser) => {
  const hint = await codeFlowIdToken(new HttpBrowser());
  await codeFlowIdToken(browser);
  return hint;
};
const otherSessionExpired: Arrange = async (browser) => {
  const hint = await otherSessionOfSameUser(browser);
  expire();
  return hint;
};
const earlierSessionOfThisBrowser: Arrange = async (browser) => {
  const hint = await codeFlowIdToken(browser);
  await codeFlowIdToken(browser, user, { prompt: 'login' });
  return hint;
};
const otherUsersSession: Arrange = async (browser) => {
  const hint = await codeFlowIdToken(new HttpBrowser(), otherUser);
  await codeFlowIdToken(browser);
  return hint;
};

describe('/session/end: which id_token_hint proves the request', () => {
  it.each<[string, Arrange]>([
    ["the current session's ID token", currentSession],
    [
      "the current session's ID token, expired (its sid still names the live session)",
      currentSessionExpired,
    ],
  ])('%s → signed out without a page, redirected with state', async (_name, arrange) => {
    const browser = new HttpBrowser();
    const hint = await arrange(browser);
    expect(await hasSession(browser)).toBe(true);
    const res = await browser.get(
      endSessionUrl({
        id_token_hint: hint,
        post_logout_redirect_uri: LOGOUT_REDIRECT,
        state: 'bye',
      }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${LOGOUT_REDIRECT}?state=bye`);
    expect(await hasSession(browser)).toBe(false);
  });

  it.each<[string, Arrange]>([
    ['a password-grant ID token of the same user (no sid)', passwordGrantOfSameUser],
    ['an ID token of another session of the same user', otherSessionOfSameUser],
    ['an expired ID token of another session of the same user', otherSessionExpired],
    ['an ID token of an earlier, replaced session of this browser', earlierSessionOfThisBrowser],
    ["another user's ID token", otherUsersSession],
  ])(
    '%s → the confirmation page, still signed in; confirming signs out',
    async (_name, arrange) => {
      const browser = new HttpBrowser();
      const hint = await arrange(browser);
      const page = await readPage(
        await browser.get(
          endSessionUrl({
            id_token_hint: hint,
            post_logout_redirect_uri: LOGOUT_REDIRECT,
            state: 'bye',
          }),
        ),
      );
      expect(page).toMatchObject({ kind: 'logout', status: 200 });
      expect(await hasSession(browser)).toBe(true);

      const done = await browser.post(
        `${server.url}/session/end`,
        hiddenFields((page as { html: string }).html),
      );
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe(`${LOGOUT_REDIRECT}?state=bye`);
      expect(await hasSession(browser)).toBe(false);
    },
  );

  it("another session's hint leaves that other session alone too", async () => {
    const elsewhere = new HttpBrowser();
    const hint = await codeFlowIdToken(elsewhere);
    const browser = new HttpBrowser();
    await codeFlowIdToken(browser);
    await browser.get(endSessionUrl({ id_token_hint: hint }));
    expect(await hasSession(elsewhere)).toBe(true);
    expect(await hasSession(browser)).toBe(true);
  });
});

describe('/session/end: hints that are not our ID tokens', () => {
  /** Each builds a hint from a real ID token of the browser's current session. */
  it.each<[string, (idToken: string) => Promise<string> | string]>([
    ['not a JWT', () => 'not-a-jwt'],
    ['three empty segments', () => '..'],
    ['a header that is a JSON array', () => `${Buffer.from('[1]').toString('base64url')}.e30.c2ln`],
    [
      'a header that is not JSON',
      (t) => `${Buffer.from('{"alg":').toString('base64url')}.${t.split('.')[1]}.c2ln`,
    ],
    ['our ID token with its signature cut off', (t) => t.split('.').slice(0, 2).join('.') + '.'],
    [
      'our ID token with a changed payload',
      (t) =>
        [
          t.split('.')[0],
          Buffer.from(JSON.stringify({ ...decodeJwt(t), sub: otherUser.id })).toString('base64url'),
          t.split('.')[2],
        ].join('.'),
    ],
    [
      'alg none with our kid',
      (t) =>
        `${Buffer.from(JSON.stringify({ ...decodeProtectedHeader(t), alg: 'none' })).toString('base64url')}.${t.split('.')[1]}.`,
    ],
    [
      'the same claims signed by a foreign key under our kid',
      async (t) => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT(decodeJwt(t))
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: decodeProtectedHeader(t).kid! })
          .sign(privateKey);
      },
    ],
    [
      'an access token of the same session (typ at+jwt)',
      async () => (await passwordGrant(user)).access_token!,
    ],
  ])('%s → 400 page, no redirect, still signed in', async (_name, forge) => {
    const browser = new HttpBrowser();
    const hint = await forge(await codeFlowIdToken(browser));
    const res = await browser.get(
      endSessionUrl({
        id_token_hint: hint,
        post_logout_redirect_uri: LOGOUT_REDIRECT,
        state: 'bye',
      }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).not.toContain('stack');
    expect(await hasSession(browser)).toBe(true);
  });
});
