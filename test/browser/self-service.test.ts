/**
 * Self-service accounts in a real browser (Debian's chromium driven by playwright-core), the
 * mails read from a real SMTP server on loopback:
 * - prompt=create → sign-up → verification mail → confirm → the sign-in continues → code,
 *   whose ID token says email_verified: true;
 * - login page → "Forgot your password?" → mail → new password → the old refresh token is dead
 *   and the new password signs in.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server';
import { startMailbox, linkIn, type Mailbox } from '../support/mailbox';
import { makeClient, pkcePair, type FlowClient } from '../support/code-flow';
import { makeClient as makeGrantClient, makeUser } from '../support/fixtures';
import { login, refresh } from '../support/tokens';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `Skipping browser tests: no chromium binary at ${CHROMIUM} (apt-get install -y chromium)`,
  );
const describeInBrowser = haveChromium ? describe : describe.skip;

jest.setTimeout(120_000);

let server: TestServer;
let mailbox: Mailbox;
let browser: Browser;
let rpServer: Server;
let rpOrigin: string;
let rp: FlowClient;

beforeAll(async () => {
  if (!haveChromium) return;
  rpServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`relying party received ${req.url}`);
  });
  await new Promise<void>((resolve) => rpServer.listen(0, '127.0.0.1', resolve));
  rpOrigin = `http://127.0.0.1:${(rpServer.address() as AddressInfo).port}`;
  mailbox = await startMailbox();
  server = await startTestServer({ env: { SIGNUP: 'open', SMTP_URL: mailbox.url } });
  rp = await makeClient(server, { name: 'Self-Service App', redirectUris: [`${rpOrigin}/cb`] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await mailbox?.close();
  await new Promise<void>((resolve) => (rpServer ? rpServer.close(() => resolve()) : resolve()));
});

function request(pkce: { challenge: string }, state: string, extra: Record<string, string> = {}) {
  const url = new URL('/authorize', server.url);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: rp.client.id,
    redirect_uri: `${rpOrigin}/cb`,
    scope: 'openid email',
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  }))
    url.searchParams.set(k, v);
  return url.toString();
}

async function exchange(code: string, verifier: string): Promise<Record<string, string>> {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${rp.client.id}:${rp.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${rpOrigin}/cb`,
      code_verifier: verifier,
    }).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

describeInBrowser('self-service accounts in a real browser', () => {
  it('prompt=create → sign-up → verification mail → sign-in continues → email_verified', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
        cspViolations.push(msg.text());
    });
    const email = `browser-${Date.now()}@example.com`;
    const password = 'seven sleepy otters juggling lanterns';
    const pkce = pkcePair();
    await page.goto(request(pkce, 'create', { prompt: 'create' }));
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    expect(await page.getByText('Self-Service App').isVisible()).toBe(true);
    await page.getByLabel('Name').fill('Katherine Johnson');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    const link = linkIn(await mailbox.next(email), `${server.config.issuer}/verify-email?token=`);
    await page.goto(link);
    await page.getByRole('button', { name: 'Confirm' }).click();
    // The verification continues the sign-in it started from: the login form, address filled in.
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByLabel('Email').inputValue()).toBe(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpOrigin}/cb?**`);
    expect(cspViolations).toEqual([]);

    const url = new URL(page.url());
    expect(url.searchParams.get('state')).toBe('create');
    const tokens = await exchange(url.searchParams.get('code')!, pkce.verifier);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, {
      issuer: server.config.issuer,
      audience: rp.client.id,
    });
    expect(payload).toMatchObject({ email, email_verified: true });
    await context.close();
  });

  it('forgot password → mail → reset → the old refresh token is dead, the new password signs in', async () => {
    const user = await makeUser(server);
    const app = await makeGrantClient(server);
    const before = await login(server, app, user);
    expect((await refresh(server, app, before.refresh_token!)).status).toBe(200);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(request(pkcePair(), 'forgot'));
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await page.getByLabel('Email').fill(user.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    const link = linkIn(await mailbox.next(user.email), `${server.config.issuer}/reset-password`);
    await page.goto(link);
    const password = 'an orange canoe drifting past midnight';
    await page.getByLabel('New password').fill(password);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Password changed' }).waitFor();
    expect((await mailbox.next(user.email)).subject).toMatch(/password was changed/i);

    // The family the old password opened is gone (rotated or not).
    const old = await refresh(server, app, before.refresh_token!);
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: string }).error).toBe('invalid_grant');

    const pkce = pkcePair();
    await page.goto(request(pkce, 'after'));
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpOrigin}/cb?**`);
    const tokens = await exchange(new URL(page.url()).searchParams.get('code')!, pkce.verifier);
    expect(tokens.id_token).toBeTruthy();
    await context.close();
  });
});
