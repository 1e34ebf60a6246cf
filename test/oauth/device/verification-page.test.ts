/**
 * The /device pages (RFC 8628 §3.3) as a user's browser meets them: the prefilled code form,
 * codes typed in any case with or without the hyphen, the confirmation showing the code and
 * the client, the brute-force limit on wrong codes per IP (§5.1), CSRF and page-state checks.
 */
import { HttpBrowser, hiddenFields } from '../../support/code-flow';
import {
  approveDevice,
  decide,
  DEVICE_GRANT,
  deviceAuthorization,
  deviceLogin,
  enterCode,
  pollDevice,
} from '../../support/device';
import { makeClient, makeUser, type TestClient } from '../../support/fixtures';
import { useTestServer, type TestServer } from '../../support/server';
import type { UserRecord } from '../../../src/accounts/user-storage';

const server = useTestServer({
  env: { TRUST_PROXY: 'true', DEVICE_USER_CODE_MAX_FAILURES: '3', LOGIN_BACKOFF_BASE: '30' },
});
let s: TestServer;
let user: UserRecord;
let tv: TestClient;
let ipCounter = 0;
/** Each test its own client IP, so per-IP counters do not carry over. */
const freshIp = () => ({ 'x-forwarded-for': `198.51.100.${++ipCounter}` });

beforeAll(async () => {
  s = server();
  user = await makeUser(s);
  tv = await makeClient(s, { name: 'Living Room TV', grantTypes: [DEVICE_GRANT] });
});

async function userCode(
  scope = 'openid profile',
): Promise<{ user_code: string; device_code: string }> {
  const res = await deviceAuthorization(s, tv, { scope });
  return res.body as { user_code: string; device_code: string };
}

describe('GET /device', () => {
  it('shows the code form, prefilled from verification_uri_complete, with the page headers', async () => {
    const codes = await userCode();
    const res = await fetch(`${s.url}/device?user_code=${codes.user_code}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Connect a device</h1>');
    expect(html).toContain(`value="${codes.user_code}"`);
    expect(res.headers.get('content-security-policy')).toMatch(
      /default-src 'none'.*form-action 'self'.*frame-ancestors 'none'/,
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    // Prefilled only: nothing is decided until the user submits.
    expect((await pollDevice(s, tv, codes.device_code)).body.error).toBe('authorization_pending');
  });

  it('a prefilled value that is no code is not echoed', async () => {
    const html = await (await fetch(`${s.url}/device?user_code=%22%3E%3Cscript%3E`)).text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('value=""');
  });
});

describe('POST /device', () => {
  it.each([
    ['lower case', (c: string) => c.toLowerCase()],
    ['without the hyphen', (c: string) => c.replace('-', '')],
    ['with spaces', (c: string) => ` ${c.slice(0, 4)} ${c.slice(5)} `],
  ])('accepts the code typed %s', async (_name, typed) => {
    const codes = await userCode();
    const page = await enterCode(s, new HttpBrowser(), typed(codes.user_code), freshIp());
    expect(page.status).toBe(200);
    expect(page.action).toBe('/device/login');
    expect(page.html).toContain('to continue to <strong>Living Room TV</strong>');
  });

  it('the confirmation names the client, the scopes and shows the code prominently', async () => {
    const codes = await userCode('openid email');
    const browser = new HttpBrowser();
    const login = await enterCode(s, browser, codes.user_code, freshIp());
    const confirm = await deviceLogin(s, browser, login, user.email);
    expect(confirm.action).toBe('/device/confirm');
    expect(confirm.html).toContain('<h1>Connect Living Room TV?</h1>');
    expect(confirm.html).toContain('Make sure this code matches the one on your device');
    expect(confirm.html).toContain(
      `<p class="user-code" aria-labelledby="device-code-label">${codes.user_code}</p>`,
    );
    expect(confirm.html).toContain('See your email address');
    expect(confirm.html).toContain(`Signed in as ${user.email}`);
  });

  it('a wrong password on the device login shows the login error', async () => {
    const codes = await userCode();
    const browser = new HttpBrowser();
    const login = await enterCode(s, browser, codes.user_code, freshIp());
    const again = await deviceLogin(s, browser, login, user.email, 'not the password');
    expect(again.status).toBe(401);
    expect(again.html).toContain('The email address or password is incorrect.');
    expect(again.action).toBe('/device/login');
  });

  it('an unknown code is refused with a message; malformed input says what a code looks like', async () => {
    const ip = freshIp();
    const unknown = await enterCode(s, new HttpBrowser(), 'BBBB-BBBB', ip);
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('That code is not valid or has expired.');
    const malformed = await enterCode(s, new HttpBrowser(), 'ABC', ip);
    expect(malformed.status).toBe(400);
    expect(malformed.html).toContain('Enter the 8-letter code shown on your device');
  });

  it('wrong codes are limited per IP (RFC 8628 §5.1): past the limit even a right code waits; other IPs are unaffected', async () => {
    const codes = await userCode();
    const ip = freshIp();
    for (let i = 0; i < 3; i++)
      expect((await enterCode(s, new HttpBrowser(), 'BBBB-BBBC', ip)).status).toBe(400);
    const blocked = await enterCode(s, new HttpBrowser(), codes.user_code, ip);
    expect(blocked.status).toBe(429);
    expect(blocked.html).toMatch(/Too many incorrect codes. Try again in \d+ seconds./);
    const other = await enterCode(s, new HttpBrowser(), codes.user_code, freshIp());
    expect(other.action).toBe('/device/login');
    // The block ends (backoff, not a lockout).
    s.clock.advance(31);
    expect((await enterCode(s, new HttpBrowser(), codes.user_code, ip)).action).toBe(
      '/device/login',
    );
    const events = await s.services.audit.list({ type: 'device.user_code_rejected' });
    expect(events.length).toBeGreaterThanOrEqual(3);
  });

  it('the 429 carries Retry-After', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) await enterCode(s, new HttpBrowser(), 'BBBB-BBBD', ip);
    const browser = new HttpBrowser();
    const form = await (await browser.get(`${s.url}/device`)).text();
    const res = await browser.post(
      `${s.url}/device`,
      { ...hiddenFields(form), user_code: 'BBBB-BBBF' },
      ip,
    );
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('without the CSRF token → the "page has expired" page', async () => {
    const res = await new HttpBrowser().post(`${s.url}/device`, { user_code: 'BBBB-BBBB' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('This page has expired');
  });
});

describe('POST /device/confirm', () => {
  it('a confirmation page from another browser does not open here', async () => {
    const codes = await userCode();
    const browser = new HttpBrowser();
    const login = await enterCode(s, browser, codes.user_code, freshIp());
    const confirm = await deviceLogin(s, browser, login, user.email);
    const res = await new HttpBrowser().post(`${s.url}/device/confirm`, {
      ...hiddenFields(confirm.html),
      decision: 'allow',
    });
    expect(res.status).toBe(403);
    expect((await pollDevice(s, tv, codes.device_code)).body.error).toBe('authorization_pending');
  });

  it('a request decided meanwhile (in another tab) is not decided twice', async () => {
    const codes = await userCode();
    const browser = new HttpBrowser();
    const login = await enterCode(s, browser, codes.user_code, freshIp());
    const confirm = await deviceLogin(s, browser, login, user.email);
    await approveDevice(s, codes.user_code, user.email, 'deny', browser);
    const late = await decide(s, browser, confirm, 'allow');
    expect(late.status).toBe(400);
    expect(late.html).toContain('This code has expired or has already been used.');
    expect((await pollDevice(s, tv, codes.device_code)).body.error).toBe('access_denied');
  });
});
