/**
 * The code flow in a real browser (Debian's chromium driven by playwright-core): the login
 * and consent pages as a user sees them, their CSP and cookies as a browser enforces them.
 * The client is a tiny local HTTP server that only records the redirects it receives.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server';
import {
  authorizeUrl,
  makeClient,
  makeUser,
  PASSWORD,
  pkcePair,
  type FlowClient,
} from '../support/code-flow';
import type { UserRecord } from '../../src/accounts/user-storage';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `Skipping browser tests: no chromium binary at ${CHROMIUM} (apt-get install -y chromium)`,
  );
const describeInBrowser = haveChromium ? describe : describe.skip;

jest.setTimeout(120_000);

let server: TestServer;
let browser: Browser;
let rpServer: Server;
let rpOrigin: string;
let user: UserRecord;
let rp: FlowClient;

beforeAll(async () => {
  if (!haveChromium) return;
  rpServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`relying party received ${req.url}`);
  });
  await new Promise<void>((resolve) => rpServer.listen(0, '127.0.0.1', resolve));
  rpOrigin = `http://127.0.0.1:${(rpServer.address() as AddressInfo).port}`;
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server, {
    name: 'Browser Test App',
    redirectUris: [`${rpOrigin}/cb`],
    postLogoutRedirectUris: [`${rpOrigin}/bye`],
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise<void>((resolve) => (rpServer ? rpServer.close(() => resolve()) : resolve()));
});

function request(pkce: { challenge: string }, state: string): string {
  return authorizeUrl(server, {
    response_type: 'code',
    client_id: rp.client.id,
    redirect_uri: `${rpOrigin}/cb`,
    scope: 'openid profile email offline_access',
    state,
    nonce: `nonce-${state}`,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
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

describeInBrowser('sign-in in a real browser', () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('a wrong password shows the error on the page', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(request(pkcePair(), 'wrong'));
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect((await alert.textContent())?.trim()).toBe('The email address or password is incorrect.');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    expect(page.url()).toBe(`${server.url}/login`);
    await page.context().close();
  });

  it('login → consent → the client receives a code; the ID token verifies against the JWKS', async () => {
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
        cspViolations.push(msg.text());
    });
    const pkce = pkcePair();
    await page.goto(request(pkce, 'one'));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Allow Browser Test App?' }).waitFor();
    expect(await page.getByText('See your email address').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpOrigin}/cb?**`);
    // The inline stylesheet (allowed by hash) and the form posts + redirect passed the CSP.
    expect(cspViolations).toEqual([]);

    const url = new URL(page.url());
    expect(url.searchParams.get('state')).toBe('one');
    expect(url.searchParams.get('iss')).toBe(server.config.issuer);
    const tokens = await exchange(url.searchParams.get('code')!, pkce.verifier);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, {
      issuer: server.config.issuer,
      audience: rp.client.id,
      typ: 'JWT',
    });
    expect(payload).toMatchObject({ sub: user.id, nonce: 'nonce-one' });
    expect(typeof payload.auth_time).toBe('number');
    await page.close();
  });

  it('a second authorization reuses the session: no login form, no consent', async () => {
    const page = await context.newPage();
    const pkce = pkcePair();
    const seen: string[] = [];
    page.on('framenavigated', (frame) => seen.push(frame.url()));
    await page.goto(request(pkce, 'two'));
    await page.waitForURL(`${rpOrigin}/cb?**`);
    expect(seen.some((u) => u.startsWith(`${server.url}/login`))).toBe(false);
    expect(await page.locator('input[type=password]').count()).toBe(0);
    const url = new URL(page.url());
    const tokens = await exchange(url.searchParams.get('code')!, pkce.verifier);
    expect(tokens.id_token).toBeTruthy();
    await page.close();
  });

  it('logout ends the session: the next authorization shows the login form again', async () => {
    const page = await context.newPage();
    const pkce = pkcePair();
    await page.goto(request(pkce, 'three'));
    await page.waitForURL(`${rpOrigin}/cb?**`);
    const tokens = await exchange(new URL(page.url()).searchParams.get('code')!, pkce.verifier);

    const logout = new URL('/session/end', server.url);
    logout.searchParams.set('id_token_hint', tokens.id_token!);
    logout.searchParams.set('post_logout_redirect_uri', `${rpOrigin}/bye`);
    logout.searchParams.set('state', 'gone');
    await page.goto(logout.toString());
    await page.waitForURL(`${rpOrigin}/bye?state=gone`);

    await page.goto(request(pkcePair(), 'four'));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByLabel('Password').isVisible()).toBe(true);
    await page.close();
  });
});
