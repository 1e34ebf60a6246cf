/**
 * The device flow end to end: openid-client v6 (initiateDeviceAuthorization,
 * pollDeviceAuthorizationGrant) is the device, polling Tessera on its own schedule, while a
 * real Chromium (Debian's, driven by playwright-core) is the user on /device: entering the
 * code from verification_uri_complete, signing in, checking the code and approving or denying.
 * The device's requests pass through a recording fetch, so what it was told on the way
 * (slow_down, authorization_pending) is observed, not assumed.
 */
import { existsSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, PASSWORD } from '../support/code-flow';
import { DEVICE_GRANT } from '../support/device';
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
let user: UserRecord;
let config: oidc.Configuration;
/** The `error` of every token response the device received, in order. */
let answers: string[];
/** Resolves the promise of nextAnswer(). */
let answered: ((answer: string) => void) | undefined;
const nextAnswer = () => new Promise<string>((resolve) => (answered = resolve));
/** Send the device's next poll twice (see the approve test). */
let duplicateNextPoll = false;

beforeAll(async () => {
  if (!haveChromium) return;
  // One-second polling keeps the test short; slow_down then adds five.
  server = await startTestServer({ env: { DEVICE_CODE_INTERVAL: '1' } });
  user = await makeUser(server);
  const tv = await makeClient(server, {
    name: 'Living Room TV',
    isPublic: true,
    tokenEndpointAuthMethod: 'none',
    grantTypes: [DEVICE_GRANT, 'refresh_token'],
    redirectUris: [],
    postLogoutRedirectUris: [],
  });
  config = await oidc.discovery(
    new URL(server.config.issuer),
    tv.client.id,
    undefined,
    oidc.None(),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  const plainFetch = (url: string, options: oidc.CustomFetchOptions) =>
    fetch(url, options as RequestInit);
  config[oidc.customFetch] = async (url, options) => {
    if (duplicateNextPoll && url.endsWith('/token')) {
      duplicateNextPoll = false;
      await (await plainFetch(url, options)).text();
    }
    const res = await plainFetch(url, options);
    if (url.endsWith('/token')) {
      const answer = ((await res.clone().json()) as { error?: string }).error ?? 'tokens';
      answers.push(answer);
      answered?.(answer);
      answered = undefined;
    }
    return res;
  };
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
});
beforeEach(() => {
  answers = [];
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A user on /device in a fresh browser: code (prefilled), sign in, check the code, decide. */
async function userDecides(
  response: oidc.DeviceAuthorizationResponse,
  decision: 'Allow' | 'Deny',
): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
      cspViolations.push(msg.text());
  });
  await page.goto(response.verification_uri_complete!);
  await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
  expect(await page.getByLabel('Code').inputValue()).toBe(response.user_code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Connect Living Room TV?' }).waitFor();
  expect(
    await page.getByText('Make sure this code matches the one on your device').isVisible(),
  ).toBe(true);
  expect((await page.locator('.user-code').textContent())?.trim()).toBe(response.user_code);
  await page.getByRole('button', { name: decision }).click();
  const done = decision === 'Allow' ? 'Device connected' : 'Request denied';
  await page.getByRole('heading', { name: done }).waitFor();
  const status = (await page.getByRole('status').textContent()) ?? '';
  expect(cspViolations).toEqual([]);
  await context.close();
  return status;
}

describeInBrowser('openid-client v6 device flow with Chromium approving on /device', () => {
  it('discovery names the device authorization endpoint', () => {
    const meta = config.serverMetadata();
    expect(meta.device_authorization_endpoint).toBe(`${server.config.issuer}/device/authorization`);
    expect(meta.grant_types_supported).toContain(DEVICE_GRANT);
  });

  it('approve: the device is told slow_down, keeps polling, gets tokens; the ID token verifies against the JWKS', async () => {
    const response = await oidc.initiateDeviceAuthorization(config, {
      scope: 'openid profile offline_access',
    });
    expect(response.verification_uri).toBe(`${server.config.issuer}/device`);
    expect(response.interval).toBe(1);
    // The device's first poll reaches the server twice (as a retrying network may send it):
    // the second copy comes sooner than the interval, and that is the answer the device gets.
    duplicateNextPoll = true;
    const firstAnswer = nextAnswer();
    const polling = oidc.pollDeviceAuthorizationGrant(config, response);
    // The user approves only once the device has been told to slow down.
    expect(await firstAnswer).toBe('slow_down');
    const status = await userDecides(response, 'Allow');
    expect(status).toMatch(/Return to your device/);
    const tokens = await polling;
    expect(answers[0]).toBe('slow_down');
    expect(answers.at(-1)).toBe('tokens');
    expect(tokens.refresh_token).toBeTruthy();
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user.id);
    expect(claims.amr).toEqual(['pwd']);
    expect(typeof claims.sid).toBe('string');
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, {
      issuer: server.config.issuer,
      audience: config.clientMetadata().client_id,
    });
    expect(payload.sid).toBe(claims.sid);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.sub).toBe(user.id);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
  });

  it('deny: the device gets access_denied', async () => {
    const response = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const polling = oidc.pollDeviceAuthorizationGrant(config, response).catch((e: unknown) => e);
    await userDecides(response, 'Deny');
    const err = await polling;
    expect(err).toBeInstanceOf(oidc.ResponseBodyError);
    expect((err as oidc.ResponseBodyError).error).toBe('access_denied');
  });

  it('nobody approves in time: the device gets expired_token', async () => {
    const response = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    server.clock.advance(response.expires_in + 1);
    const err = await oidc.pollDeviceAuthorizationGrant(config, response).catch((e: unknown) => e);
    expect((err as oidc.ResponseBodyError).error).toBe('expired_token');
    expect(answers).toEqual(['expired_token']);
  });
});
