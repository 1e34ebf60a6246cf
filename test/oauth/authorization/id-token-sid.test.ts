/**
 * `sid` in ID tokens (OpenID Connect Back-Channel Logout 1.0 §2.1, Front-Channel Logout 1.0
 * §3): an opaque identifier of the browser (SSO) session the login happened in — the same for
 * every ID token of that session, different for every other session, never the cookie's secret.
 * Tokens from the password grant belong to no browser session and carry none.
 */
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../../support/server';
import {
  authorizeUrl,
  codeRequest,
  exchangeCode,
  HttpBrowser,
  makeClient,
  makeUser,
  PASSWORD,
  pkcePair,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;
let second: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server, {
    firstParty: true,
    grantTypes: ['authorization_code', 'refresh_token', 'password'],
  });
  second = await makeClient(server, { firstParty: true });
});
afterAll(async () => {
  await server?.stop();
});

/** Runs the code flow in `browser` for `fc` (signing in if needed); returns the tokens. */
async function codeFlow(
  browser: HttpBrowser,
  fc: FlowClient,
  extra: Record<string, string> = {},
): Promise<{ idToken: string; refreshToken: string }> {
  const pkce = pkcePair();
  const loc = await signIn(
    browser,
    server,
    authorizeUrl(server, codeRequest(fc.client, pkce, extra)),
    user.email,
  );
  const tokens = await exchangeCode(server, fc, {
    code: loc.searchParams.get('code')!,
    code_verifier: pkce.verifier,
  });
  expect(tokens.status).toBe(200);
  return {
    idToken: tokens.body.id_token as string,
    refreshToken: tokens.body.refresh_token as string,
  };
}

async function tokenRequest(
  fc: FlowClient,
  form: Record<string, string>,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${fc.client.id}:${fc.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams(form).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const sidOf = (idToken: string) => decodeJwt(idToken).sid;

describe('sid in ID tokens', () => {
  it('a code-flow ID token names its browser session, opaquely (not the cookie)', async () => {
    const browser = new HttpBrowser();
    const { idToken } = await codeFlow(browser, rp);
    const sid = sidOf(idToken);
    expect(typeof sid).toBe('string');
    expect((sid as string).length).toBeGreaterThanOrEqual(16);
    for (const cookie of browser.cookies.values()) {
      expect(sid).not.toBe(cookie);
      expect(cookie).not.toContain(sid as string);
      expect(sid as string).not.toContain(cookie);
    }
  });

  it('every client of one browser session gets the same sid; two sessions get two', async () => {
    const a = new HttpBrowser();
    const first = sidOf((await codeFlow(a, rp)).idToken);
    expect(sidOf((await codeFlow(a, second)).idToken)).toBe(first);
    const b = new HttpBrowser();
    expect(sidOf((await codeFlow(b, rp)).idToken)).not.toBe(first);
    // A new login in the same browser (prompt=login) starts a new session, hence a new sid.
    expect(sidOf((await codeFlow(a, rp, { prompt: 'login' })).idToken)).not.toBe(first);
  });

  it('the password grant belongs to no browser session: no sid', async () => {
    const body = await tokenRequest(rp, {
      grant_type: 'password',
      username: user.email,
      password: PASSWORD,
      scope: 'openid offline_access',
    });
    expect(decodeJwt(body.id_token as string)).not.toHaveProperty('sid');
  });

  it("a refresh's ID token carries the sid of the family's session", async () => {
    const { idToken, refreshToken } = await codeFlow(new HttpBrowser(), rp);
    expect(sidOf(idToken)).toEqual(expect.any(String));
    const body = await tokenRequest(rp, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    expect(sidOf(body.id_token as string)).toBe(sidOf(idToken));
  });
});
