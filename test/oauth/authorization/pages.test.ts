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
  PASSWORD,
  pkcePair,
  readPage,
  REDIRECT,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';
import { createClientFromMetadata } from '../../../src/admin/clients';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;
let first: FlowClient;

beforeAll(async () => {
  server = await startTestServer({ env: { LOGIN_MAX_FAILURES: '3' } });
  user = await makeUser(server);
  rp = await makeClient(server);
  first = await makeClient(server, { firstParty: true });
});
afterAll(async () => {
  await server?.stop();
});

async function loginPage(
  browser: HttpBrowser,
  fc: FlowClient = rp,
  extra: Record<string, string | undefined> = {},
): Promise<{ html: string; res: Response }> {
  const res = await browser.get(authorizeUrl(server, codeRequest(fc.client, pkcePair(), extra)));
  const html = await res.text();
  expect(html).toContain('action="/login"');
  return { html, res };
}

describe('login page', () => {
  it('is accessible HTML with strict headers', async () => {
    const { html, res } = await loginPage(new HttpBrowser());
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' https://rp.example");
    expect(csp).not.toContain('unsafe-inline');
    expect(html).toMatch(/<label for="email">/);
    expect(html).toMatch(/<label for="password">/);
    expect(html).not.toMatch(/<script/);
  });

  it('sets HttpOnly, SameSite=Lax cookies (no __Host- prefix on an http issuer)', async () => {
    const browser = new HttpBrowser();
    const { html } = await loginPage(browser);
    const res = await browser.post(`${server.url}/login`, {
      ...hiddenFields(html),
      email: user.email,
      password: PASSWORD,
    });
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('tessera_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).toMatch(/Path=\//);
    expect(session.split(';')[0]!.split('=')[1]!.length).toBeGreaterThanOrEqual(43);
  });

  it('a wrong password shows the error on the page, tied to the fields', async () => {
    const browser = new HttpBrowser();
    const { html } = await loginPage(browser);
    const res = await browser.post(`${server.url}/login`, {
      ...hiddenFields(html),
      email: user.email,
      password: 'wrong password',
    });
    expect(res.status).toBe(401);
    const page = await res.text();
    expect(page).toContain('id="login-error"');
    expect(page).toContain('The email address or password is incorrect.');
    expect(page).toMatch(/id="password"[^>]*aria-describedby="login-error"/);
    expect(page).toContain(`value="${user.email}"`);
    expect(page).not.toContain('wrong password');
  });

  it('the brute-force limits of the password grant apply (429 with Retry-After)', async () => {
    const victim = await makeUser(server);
    const browser = new HttpBrowser();
    let res: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const { html } = await loginPage(browser);
      res = await browser.post(`${server.url}/login`, {
        ...hiddenFields(html),
        email: victim.email,
        password: `nope-${i}`,
      });
      if (res.status === 429) break;
    }
    expect(res!.status).toBe(429);
    expect(Number(res!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res!.text()).toContain('Too many failed attempts');
  });

  it.each([
    ['no CSRF token', (f: Record<string, string>) => ({ ...f, csrf_token: '' })],
    [
      'a CSRF token from another browser',
      (f: Record<string, string>, other: Record<string, string>) => ({
        ...f,
        csrf_token: other.csrf_token!,
      }),
    ],
    [
      'page state from another browser',
      (f: Record<string, string>, other: Record<string, string>) => ({
        ...f,
        interaction: other.interaction!,
      }),
    ],
    [
      'tampered page state',
      (f: Record<string, string>) => ({ ...f, interaction: `${f.interaction!.slice(0, -4)}AAAA` }),
    ],
  ])('a login POST with %s → 403, no session', async (_name, tamper) => {
    const browser = new HttpBrowser();
    const mine = hiddenFields((await loginPage(browser)).html);
    const theirs = hiddenFields((await loginPage(new HttpBrowser())).html);
    const res = await browser.post(`${server.url}/login`, {
      ...tamper(mine, theirs),
      email: user.email,
      password: PASSWORD,
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('tessera_session='))).toBe(false);
  });

  it('an expired login page cannot be used', async () => {
    const browser = new HttpBrowser();
    const { html } = await loginPage(browser);
    server.clock.advance(601);
    const res = await browser.post(`${server.url}/login`, {
      ...hiddenFields(html),
      email: user.email,
      password: PASSWORD,
    });
    expect(res.status).toBe(403);
  });

  it('login_hint pre-fills the email', async () => {
    const { html } = await loginPage(new HttpBrowser(), rp, { login_hint: 'someone@example.com' });
    expect(html).toContain('value="someone@example.com"');
  });
});

describe('consent page', () => {
  async function consentPage(fc: FlowClient): Promise<{ html: string; csp: string }> {
    const browser = new HttpBrowser();
    const { html } = await loginPage(browser, fc);
    const res = await browser.post(`${server.url}/login`, {
      ...hiddenFields(html),
      email: user.email,
      password: PASSWORD,
    });
    const page = await res.text();
    expect(page).toContain('action="/consent"');
    return { html: page, csp: res.headers.get('content-security-policy') ?? '' };
  }

  it("shows the client's registered home page and logo, allowing images from its origin only", async () => {
    const branded = await createClientFromMetadata(server.services, {
      client_name: 'Photo Box',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      scope: 'openid profile email offline_access',
      client_uri: 'https://photobox.example/about',
      logo_uri: 'https://cdn.photobox.example/logo.png',
    });
    const { html, csp } = await consentPage(branded);
    expect(html).toContain('<img src="https://cdn.photobox.example/logo.png" alt=""');
    expect(html).toContain(
      '<a href="https://photobox.example/about" rel="noopener noreferrer" target="_blank">photobox.example</a>',
    );
    expect(csp).toContain('img-src https://cdn.photobox.example;');
    const plain = await consentPage(rp);
    expect(plain.html).not.toContain('<img');
    expect(plain.csp).not.toContain('img-src');
  });

  it('denying → access_denied at the client, with state and iss', async () => {
    const browser = new HttpBrowser();
    const { html } = await loginPage(browser);
    const consent = await readPage(
      await browser.post(`${server.url}/login`, {
        ...hiddenFields(html),
        email: user.email,
        password: PASSWORD,
      }),
    );
    expect(consent.kind).toBe('consent');
    const done = await readPage(
      await browser.post(`${server.url}/consent`, {
        ...hiddenFields((consent as { html: string }).html),
        decision: 'deny',
      }),
    );
    const location = (done as { location: URL }).location;
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(server.config.issuer);
  });

  it('a consent POST without the CSRF token is refused', async () => {
    const browser = new HttpBrowser();
    const { html } = await loginPage(browser);
    const consent = await readPage(
      await browser.post(`${server.url}/login`, {
        ...hiddenFields(html),
        email: user.email,
        password: PASSWORD,
      }),
    );
    const fields = hiddenFields((consent as { html: string }).html);
    const res = await browser.post(`${server.url}/consent`, {
      interaction: fields.interaction!,
      decision: 'allow',
    });
    expect(res.status).toBe(403);
  });

  it('prompt=consent asks again although consent is remembered', async () => {
    const browser = new HttpBrowser();
    await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(rp.client, pkcePair())),
      user.email,
    );
    const page = await readPage(
      await browser.get(
        authorizeUrl(server, codeRequest(rp.client, pkcePair(), { prompt: 'consent' })),
      ),
    );
    expect(page.kind).toBe('consent');
  });
});

describe('SSO session', () => {
  it.each([
    ['prompt=login', { prompt: 'login' }],
    ['max_age shorter than the session age', { max_age: '5' }],
  ])('%s forces re-authentication, and auth_time moves forward', async (_name, extra) => {
    const browser = new HttpBrowser();
    const pkce1 = pkcePair();
    const firstLoc = await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(first.client, pkce1)),
      user.email,
    );
    const firstTokens = await exchangeCode(server, first, {
      code: firstLoc.searchParams.get('code')!,
      code_verifier: pkce1.verifier,
    });
    server.clock.advance(10);
    const pkce2 = pkcePair();
    const url = authorizeUrl(server, codeRequest(first.client, pkce2, extra));
    expect((await readPage(await browser.get(url))).kind).toBe('login');
    const secondLoc = await signIn(browser, server, url, user.email);
    const secondTokens = await exchangeCode(server, first, {
      code: secondLoc.searchParams.get('code')!,
      code_verifier: pkce2.verifier,
    });
    const t1 = decodeJwt(firstTokens.body.id_token as string).auth_time as number;
    const t2 = decodeJwt(secondTokens.body.id_token as string).auth_time as number;
    expect(t2).toBeGreaterThanOrEqual(t1 + 10);
  });

  it('max_age longer than the session age reuses the session', async () => {
    const browser = new HttpBrowser();
    await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(first.client, pkcePair())),
      user.email,
    );
    const page = await readPage(
      await browser.get(
        authorizeUrl(server, codeRequest(first.client, pkcePair(), { max_age: '3600' })),
      ),
    );
    expect(page.kind).toBe('redirect');
  });

  it('the session expires after SESSION_TTL', async () => {
    const browser = new HttpBrowser();
    await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(first.client, pkcePair())),
      user.email,
    );
    server.clock.advance(server.config.SESSION_TTL + 1);
    const page = await readPage(
      await browser.get(
        authorizeUrl(server, codeRequest(first.client, pkcePair(), { prompt: 'none' })),
      ),
    );
    expect((page as { location: URL }).location.searchParams.get('error')).toBe('login_required');
  });

  it('an id_token_hint for another user than the session → login_required with prompt=none', async () => {
    const other = await makeUser(server);
    const browser = new HttpBrowser();
    const pkce = pkcePair();
    const loc = await signIn(
      browser,
      server,
      authorizeUrl(server, codeRequest(first.client, pkce)),
      other.email,
    );
    const hint = (
      await exchangeCode(server, first, {
        code: loc.searchParams.get('code')!,
        code_verifier: pkce.verifier,
      })
    ).body.id_token as string;
    const mine = new HttpBrowser();
    await signIn(
      mine,
      server,
      authorizeUrl(server, codeRequest(first.client, pkcePair())),
      user.email,
    );
    const page = await readPage(
      await mine.get(
        authorizeUrl(
          server,
          codeRequest(first.client, pkcePair(), { prompt: 'none', id_token_hint: hint }),
        ),
      ),
    );
    expect((page as { location: URL }).location.searchParams.get('error')).toBe('login_required');
    // The same hint in the hinted user's own browser passes silently.
    const same = await readPage(
      await browser.get(
        authorizeUrl(
          server,
          codeRequest(first.client, pkcePair(), { prompt: 'none', id_token_hint: hint }),
        ),
      ),
    );
    expect((same as { location: URL }).location.searchParams.get('code')).toBeTruthy();
  });
});
