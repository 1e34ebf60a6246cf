/**
 * Forgot password → mail → reset, over real HTTP with the mail delivered to a real SMTP server
 * on loopback: the link works once, the new password follows NIST SP 800-63B, a reset ends every
 * refresh-token family and sends a notice, the answer is the same for unknown addresses, and a
 * failing mail server leaves nothing in the database.
 */
import { startTestServer, type TestServer } from '../support/server';
import { startMailbox, linkIn, type Mailbox } from '../support/mailbox';
import { HttpBrowser, hiddenFields } from '../support/code-flow';
import { makeClient, makeUser } from '../support/fixtures';
import { login, refresh } from '../support/tokens';

let server: TestServer;
let mailbox: Mailbox;
const NEW_PASSWORD = 'purple elephant under a quiet bridge';

beforeAll(async () => {
  mailbox = await startMailbox();
  server = await startTestServer({
    env: { SMTP_URL: mailbox.url, MAIL_FROM: 'Auth <auth@example.com>' },
  });
});
afterAll(async () => {
  await server?.stop();
  await mailbox?.close();
});

async function askForReset(browser: HttpBrowser, email: string): Promise<Response> {
  const page = await browser.get(`${server.url}/forgot-password`);
  const fields = hiddenFields(await page.text());
  return browser.post(`${server.url}/forgot-password`, { ...fields, email });
}

async function emailTokenCount(on: TestServer): Promise<number> {
  const rows = await on.services.db.sql.query<{ n: number }>(
    'test_email_tokens',
    'SELECT count(*)::int AS n FROM email_tokens',
    [],
  );
  return rows[0]!.n;
}

describe('forgot password', () => {
  it('mails a single-use link that sets a new password and ends every session', async () => {
    const user = await makeUser(server);
    const app = await makeClient(server);
    const before = await login(server, app, user);

    const browser = new HttpBrowser();
    const asked = await askForReset(browser, user.email);
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain('Check your email');

    const mail = await mailbox.next(user.email);
    expect(mail.from).toBe('auth@example.com');
    expect(mail.subject).toMatch(/reset/i);
    const link = linkIn(mail, `${server.config.issuer}/reset-password?token=`);
    expect(mail.html).toContain(link.replace(/&/g, '&amp;'));

    const form = await browser.get(link);
    expect(form.status).toBe(200);
    const fields = hiddenFields(await form.text());
    const done = await browser.post(`${server.url}/reset-password`, {
      ...fields,
      password: NEW_PASSWORD,
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Password changed');

    // The old refresh token's family was ended (invalid_grant), the new password signs in.
    const old = await refresh(server, app, before.refresh_token!);
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: string }).error).toBe('invalid_grant');
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${app.client.id}:${app.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.email,
        password: NEW_PASSWORD,
        scope: 'openid',
      }),
    });
    expect(res.status).toBe(200);

    const notice = await mailbox.next(user.email);
    expect(notice.subject).toMatch(/password was changed/i);

    // Single use: the link is dead now.
    const again = await browser.post(`${server.url}/reset-password`, {
      ...fields,
      password: NEW_PASSWORD,
    });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('no longer works');
    expect((await browser.get(link)).status).toBe(400);
  });

  it.each([
    ['too short', 'short1'],
    ['a common password', 'password123'],
    ['the address itself', 'EMAIL'],
  ])('refuses a new password that is %s (NIST SP 800-63B)', async (_, password) => {
    const user = await makeUser(server);
    const browser = new HttpBrowser();
    await askForReset(browser, user.email);
    const link = linkIn(await mailbox.next(user.email), `${server.config.issuer}/reset-password`);
    const fields = hiddenFields(await (await browser.get(link)).text());
    const res = await browser.post(`${server.url}/reset-password`, {
      ...fields,
      password: password === 'EMAIL' ? user.email : password,
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('role="alert"');
    // The link was not used up by the refused attempt.
    expect((await browser.get(link)).status).toBe(200);
  });

  it('answers an unknown address exactly like a known one (status, body, timing)', async () => {
    const browser = new HttpBrowser();
    await browser.get(`${server.url}/forgot-password`); // one CSRF binding for both
    const timings = { known: [] as number[], unknown: [] as number[] };
    const bodies = new Set<string>();
    const statuses = new Set<number>();
    for (let i = 0; i < 6; i++) {
      for (const kind of ['known', 'unknown'] as const) {
        const email =
          kind === 'known'
            ? (await makeUser(server)).email
            : `nobody-${i}-${Date.now()}@example.com`;
        const start = performance.now();
        const res = await askForReset(browser, email);
        const body = await res.text();
        timings[kind].push(performance.now() - start);
        statuses.add(res.status);
        bodies.add(body);
        await mailbox.next(email); // both get a mail (a reset link, or "no account")
      }
    }
    expect([...statuses]).toEqual([200]);
    expect(bodies.size).toBe(1);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const gap = Math.abs(median(timings.known) - median(timings.unknown));
    expect(gap).toBeLessThan(Math.max(25, 0.5 * median(timings.unknown)));
  });

  it('rejects a forged form (CSRF) with the expired page', async () => {
    const res = await new HttpBrowser().post(`${server.url}/forgot-password`, {
      csrf_token: 'forged',
      email: 'a@example.com',
    });
    expect(res.status).toBe(403);
  });

  it('throttles one address after a few requests (429 with Retry-After)', async () => {
    const email = `flood-${Date.now()}@example.com`;
    const browser = new HttpBrowser();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await askForReset(browser, email);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await last!.text()).toMatch(/Try again in \d+ (seconds?|minutes)\./);
  });
});

describe('forgot password with a failing mail server', () => {
  let failing: TestServer;
  let refusing: Mailbox;
  beforeAll(async () => {
    refusing = await startMailbox({ reject: true });
    failing = await startTestServer({ env: { SMTP_URL: refusing.url } });
  });
  afterAll(async () => {
    await failing?.stop();
    await refusing?.close();
  });

  it('says the email could not be sent and keeps no link', async () => {
    const user = await makeUser(failing);
    const browser = new HttpBrowser();
    const page = await browser.get(`${failing.url}/forgot-password`);
    const res = await browser.post(`${failing.url}/forgot-password`, {
      ...hiddenFields(await page.text()),
      email: user.email,
    });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('We could not send the email');
    expect(await emailTokenCount(failing)).toBe(0);
  });
});
