/**
 * Device-flow helpers (RFC 8628): ask for codes, poll /token, and walk the /device pages with
 * the cookie-keeping HttpBrowser as a user would (enter the code, sign in, allow or deny).
 */
import { basic, post, PASSWORD, type Reply, type TestClient } from './fixtures';
import { HttpBrowser, hiddenFields } from './code-flow';
import type { TestServer } from './server';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Client authentication as the client registered it: Basic with a secret, else client_id. */
function auth(
  c: TestClient,
  params: Record<string, string>,
): { params: Record<string, string>; headers: Record<string, string> } {
  return c.secret
    ? { params, headers: { authorization: basic(c) } }
    : { params: { ...params, client_id: c.client.id }, headers: {} };
}

export function deviceAuthorization(
  server: TestServer,
  c: TestClient,
  params: Record<string, string> = {},
): Promise<Reply> {
  const a = auth(c, params);
  return post(server, '/device/authorization', a.params, { headers: a.headers });
}

export function pollDevice(
  server: TestServer,
  c: TestClient,
  deviceCode: string,
  extra: Record<string, string> = {},
): Promise<Reply> {
  const a = auth(c, { grant_type: DEVICE_GRANT, device_code: deviceCode, ...extra });
  return post(server, '/token', a.params, { headers: a.headers });
}

export interface DevicePage {
  status: number;
  html: string;
  /** The page's form target: /device, /device/login, /device/confirm; none on an end page. */
  action: string | null;
}

async function page(res: Response): Promise<DevicePage> {
  const html = await res.text();
  return {
    status: res.status,
    html,
    action: /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? null,
  };
}

/** Opens /device (optionally prefilled) and submits `typed` as the code. */
export async function enterCode(
  server: TestServer,
  browser: HttpBrowser,
  typed: string,
  headers: Record<string, string> = {},
): Promise<DevicePage> {
  const form = await page(await browser.get(`${server.url}/device`));
  return page(
    await browser.post(
      `${server.url}/device`,
      { ...hiddenFields(form.html), user_code: typed },
      headers,
    ),
  );
}

/** Signs in on the device page's login form. */
export async function deviceLogin(
  server: TestServer,
  browser: HttpBrowser,
  login: DevicePage,
  email: string,
  password = PASSWORD,
): Promise<DevicePage> {
  return page(
    await browser.post(`${server.url}/device/login`, {
      ...hiddenFields(login.html),
      email,
      password,
    }),
  );
}

export async function decide(
  server: TestServer,
  browser: HttpBrowser,
  confirm: DevicePage,
  decision: 'allow' | 'deny',
): Promise<DevicePage> {
  return page(
    await browser.post(`${server.url}/device/confirm`, { ...hiddenFields(confirm.html), decision }),
  );
}

/** The whole user side: code → (login) → confirmation → decision; returns the end page. */
export async function approveDevice(
  server: TestServer,
  userCode: string,
  email: string,
  decision: 'allow' | 'deny' = 'allow',
  browser = new HttpBrowser(),
): Promise<DevicePage> {
  let current = await enterCode(server, browser, userCode);
  if (current.action === '/device/login')
    current = await deviceLogin(server, browser, current, email);
  if (current.action !== '/device/confirm')
    throw new Error(`expected the confirmation page, got ${current.status} ${current.action}`);
  return decide(server, browser, current, decision);
}
