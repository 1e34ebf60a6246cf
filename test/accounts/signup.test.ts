/**
 * Sign-up and email verification over real HTTP, mail delivered to a real SMTP server on
 * loopback: the account waits for its verified email before it signs in, an existing address
 * gets the same answer as a new one, a failing mail server leaves no account behind, prompt=create
 * is on only with SIGNUP=open, and SIGNUP=invite admits only an operator's invitation.
 */
import { startTestServer, type TestServer } from '../support/server';
import { startMailbox, linkIn, type Mailbox } from '../support/mailbox';
import {
  authorizeUrl,
  HttpBrowser,
  hiddenFields,
  makeClient,
  pkcePair,
  REDIRECT,
} from '../support/code-flow';
import { makeUser } from '../support/fixtures';
import { createInvitation } from '../../src/accounts/signup';
import { decodeJwt } from '../support/fixtures';

const PASSWORD = 'violet kettle humming softly at noon';

async function signUpForm(
  server: TestServer,
  browser: HttpBrowser,
  form: Record<string, string>,
  path = '/signup',
): Promise<Response> {
  const page = await browser.get(`${server.url}${path}`);
  return browser.post(`${server.url}/signup`, { ...hiddenFields(await page.text()), ...form });
}

async function count(server: TestServer, table: 'users' | 'email_tokens', email: string) {
  const rows = await server.services.db.sql.query<{ n: number }>(
    `test_count_${table}`,
    `SELECT count(*)::int AS n FROM ${table} WHERE email = $1`,
    [email],
  );
  return rows[0]!.n;
}

describe('SIGNUP=open', () => {
  let server: TestServer;
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await startMailbox();
    server = await startTestServer({ env: { SIGNUP: 'open', SMTP_URL: mailbox.url } });
  });
  afterAll(async () => {
    await server?.stop();
    await mailbox?.close();
  });

  it('creates an account that signs in once its email is verified (email_verified: true)', async () => {
    const app = await makeClient(server, { firstParty: true });
    const email = `new-${Date.now()}@example.com`;
    const browser = new HttpBrowser();
    const res = await signUpForm(server, browser, {
      email,
      password: PASSWORD,
      name: 'Grace Hopper',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your email');
    const mail = await mailbox.next(email);
    const link = linkIn(mail, `${server.config.issuer}/verify-email?token=`);

    // Before verification the right password is not enough.
    const pkce = pkcePair();
    const url = authorizeUrl(server, {
      response_type: 'code',
      client_id: app.client.id,
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const loginPage = await browser.get(url);
    const refused = await browser.post(`${server.url}/login`, {
      ...hiddenFields(await loginPage.text()),
      email,
      password: PASSWORD,
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Confirm your email address first');

    // GET shows a button (a mail scanner uses nothing); POST verifies.
    const confirm = await browser.get(link);
    expect(confirm.status).toBe(200);
    const confirmFields = hiddenFields(await confirm.text());
    const verified = await browser.post(`${server.url}/verify-email`, confirmFields);
    expect(verified.status).toBe(200);
    expect(await verified.text()).toContain('Email address confirmed');
    const reused = await browser.post(`${server.url}/verify-email`, confirmFields);
    expect(reused.status).toBe(400);

    const again = await browser.get(url);
    const signedIn = await browser.post(`${server.url}/login`, {
      ...hiddenFields(await again.text()),
      email,
      password: PASSWORD,
    });
    expect(signedIn.status).toBe(303);
    const code = new URL(signedIn.headers.get('location')!).searchParams.get('code')!;
    const token = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${app.client.id}:${app.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: pkce.verifier,
      }),
    });
    const body = (await token.json()) as { id_token: string; access_token: string };
    const claims = decodeJwt(body.id_token).payload;
    expect(claims.email).toBe(email);
    expect(claims.email_verified).toBe(true);
    const userinfo = await fetch(`${server.url}/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({ email, email_verified: true });
  });

  it('the login page of an unverified sign-up resends the link; every address gets the same answer', async () => {
    const email = `resend-${Date.now()}@example.com`;
    const browser = new HttpBrowser();
    await signUpForm(server, browser, { email, password: PASSWORD, name: 'R' });
    const first = linkIn(await mailbox.next(email), `${server.config.issuer}/verify-email`);
    const app = await makeClient(server);
    const loginPage = await browser.get(
      authorizeUrl(server, {
        response_type: 'code',
        client_id: app.client.id,
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
    );
    const refused = await browser.post(`${server.url}/login`, {
      ...hiddenFields(await loginPage.text()),
      email,
      password: PASSWORD,
    });
    const html = await refused.text();
    const resendForm = html.slice(html.indexOf('action="/verify-email/resend"'));
    const answers = [];
    for (const to of [email, `unknown-${Date.now()}@example.com`]) {
      const res = await browser.post(`${server.url}/verify-email/resend`, {
        ...hiddenFields(resendForm),
        email: to,
      });
      answers.push({ status: res.status, body: (await res.text()).replace(to, 'EMAIL') });
    }
    expect(answers[0]).toEqual({ status: 200, body: answers[1]!.body });
    expect(answers[1]!.status).toBe(200);
    const second = linkIn(await mailbox.next(email), `${server.config.issuer}/verify-email`);
    expect(second).not.toBe(first);
  });

  it('answers an existing address like a new one, mailing it "you already have an account"', async () => {
    const existing = await makeUser(server);
    const fresh = `fresh-${Date.now()}@example.com`;
    const browser = new HttpBrowser();
    await browser.get(`${server.url}/signup`);
    const answers = [];
    for (const email of [existing.email, fresh]) {
      const start = performance.now();
      const res = await signUpForm(server, browser, { email, password: PASSWORD, name: 'Someone' });
      answers.push({
        status: res.status,
        body: (await res.text()).replace(email, 'EMAIL'),
        ms: performance.now() - start,
      });
    }
    expect(answers[0]!.status).toBe(200);
    expect(answers[0]!.status).toBe(answers[1]!.status);
    expect(answers[0]!.body).toBe(answers[1]!.body);
    expect(Math.abs(answers[0]!.ms - answers[1]!.ms)).toBeLessThan(Math.max(40, answers[1]!.ms));
    expect((await mailbox.next(existing.email)).subject).toMatch(/already have/i);
    expect((await mailbox.next(fresh)).subject).toMatch(/confirm/i);
  });

  it('two sign-ups of one address at once make one account and the same answer', async () => {
    const email = `twice-${Date.now()}@example.com`;
    const [a, b] = [new HttpBrowser(), new HttpBrowser()];
    const pages = await Promise.all([a, b].map((x) => x.get(`${server.url}/signup`)));
    const fields = await Promise.all(pages.map(async (p) => hiddenFields(await p.text())));
    const answers = await Promise.all(
      [a, b].map((x, i) =>
        x.post(`${server.url}/signup`, { ...fields[i], email, password: PASSWORD, name: 'T' }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(await count(server, 'users', email)).toBe(1);
    await mailbox.next(email);
    await mailbox.next(email);
  });

  it.each([
    ['too short', 'abc123'],
    ['a very common password', 'iloveyou1'],
  ])('refuses a password that is %s', async (_, password) => {
    const email = `weak-${Date.now()}@example.com`;
    const res = await signUpForm(server, new HttpBrowser(), { email, password, name: 'W' });
    expect(res.status).toBe(400);
    expect(await count(server, 'users', email)).toBe(0);
  });

  it('advertises prompt=create and opens the sign-up page for it', async () => {
    const doc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as {
      prompt_values_supported: string[];
    };
    expect(doc.prompt_values_supported).toContain('create');
    const app = await makeClient(server);
    const res = await new HttpBrowser().get(
      authorizeUrl(server, {
        response_type: 'code',
        client_id: app.client.id,
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'create',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('action="/signup"');
    expect(hiddenFields(html).interaction).toBeTruthy();
  });

  it('links the login page to sign-up and forgot-password', async () => {
    const app = await makeClient(server);
    const res = await new HttpBrowser().get(
      authorizeUrl(server, {
        response_type: 'code',
        client_id: app.client.id,
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
    );
    const html = await res.text();
    expect(html).toContain('href="/forgot-password"');
    expect(html).toMatch(/href="\/signup\?interaction=[^"]+"/);
  });
});

describe('SIGNUP=open with a failing mail server', () => {
  let server: TestServer;
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await startMailbox({ reject: true });
    server = await startTestServer({ env: { SIGNUP: 'open', SMTP_URL: mailbox.url } });
  });
  afterAll(async () => {
    await server?.stop();
    await mailbox?.close();
  });

  it('says the email could not be sent and leaves no account and no link', async () => {
    const email = `lost-${Date.now()}@example.com`;
    const res = await signUpForm(server, new HttpBrowser(), {
      email,
      password: PASSWORD,
      name: 'L',
    });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('We could not send the email');
    expect(await count(server, 'users', email)).toBe(0);
    expect(await count(server, 'email_tokens', email)).toBe(0);
  });
});

describe('SIGNUP=invite', () => {
  let server: TestServer;
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await startMailbox();
    server = await startTestServer({ env: { SIGNUP: 'invite', SMTP_URL: mailbox.url } });
  });
  afterAll(async () => {
    await server?.stop();
    await mailbox?.close();
  });

  it('refuses sign-up without an invitation and prompt=create (not advertised)', async () => {
    expect((await new HttpBrowser().get(`${server.url}/signup`)).status).toBe(403);
    const app = await makeClient(server);
    const res = await new HttpBrowser().get(
      authorizeUrl(server, {
        response_type: 'code',
        client_id: app.client.id,
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'create',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('signs up the invited address once with the invitation link', async () => {
    const email = `invited-${Date.now()}@example.com`;
    const { url } = await createInvitation(server.services, email);
    expect(url.startsWith(`${server.config.issuer}/signup?invitation=`)).toBe(true);
    const path = new URL(url).pathname + new URL(url).search;
    const browser = new HttpBrowser();
    const res = await signUpForm(
      server,
      browser,
      { email: 'someone-else@example.com', password: PASSWORD, name: 'Invited' },
      path,
    );
    expect(res.status).toBe(200);
    expect(await count(server, 'users', email)).toBe(1); // the invited address, whatever was typed
    expect(await count(server, 'users', 'someone-else@example.com')).toBe(0);
    await mailbox.next(email);
    const second = await browser.get(`${server.url}${path}`);
    expect(second.status).toBe(403);
  });
});
