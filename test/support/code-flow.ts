/**
 * Shared fixtures for code-flow tests: users and clients, a cookie-keeping HTTP "browser"
 * (no redirects followed, so tests see every hop), form scraping, PKCE and code exchange.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createClient, type NewClientInput } from '../../src/admin/clients';
import { createUser } from '../../src/admin/users';
import type { ClientRecord } from '../../src/clients/client-storage';
import type { UserRecord } from '../../src/accounts/user-storage';
import { basic, PASSWORD, type TestClient } from './fixtures';
import type { TestServer } from './server';

export { PASSWORD } from './fixtures';
export const REDIRECT = 'https://rp.example/cb';
export const OTHER_REDIRECT = 'https://rp.example/other';
export const LOGOUT_REDIRECT = 'https://rp.example/bye';

export type FlowClient = TestClient;

export async function makeUser(
  server: TestServer,
  email = `u${randomBytes(4).toString('hex')}@example.com`,
): Promise<UserRecord> {
  return createUser(server.services, { email, password: PASSWORD, name: 'Test User' });
}

export async function makeClient(
  server: TestServer,
  input: Partial<NewClientInput> = {},
): Promise<FlowClient> {
  return createClient(server.services, {
    name: 'Example App',
    grantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: [REDIRECT, OTHER_REDIRECT],
    postLogoutRedirectUris: [LOGOUT_REDIRECT],
    scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
    ...input,
  });
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A minimal browser: keeps cookies per name, never follows redirects. */
export class HttpBrowser {
  readonly cookies = new Map<string, string>();

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' });
  }

  async post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.send(url, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  }

  private async send(
    url: string,
    init: { method: string; body?: string; headers?: Record<string, string> },
  ): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1).trim());
    }
    return res;
  }
}

/** Hidden inputs of the (first) form on a page, unescaped. */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[unescape(m[1]!)] = unescape(m[2]!);
  return fields;
}

function unescape(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function authorizeUrl(
  server: TestServer,
  params: Record<string, string | undefined>,
): string {
  const url = new URL('/authorize', server.url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export function codeRequest(
  client: ClientRecord,
  pkce: { challenge: string },
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: client.id,
    redirect_uri: REDIRECT,
    scope: 'openid profile email offline_access',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
}

export type Page =
  | { kind: 'login' | 'consent' | 'logout' | 'error'; status: number; html: string }
  | { kind: 'redirect'; status: number; location: URL };

export async function readPage(res: Response): Promise<Page> {
  if (res.status >= 300 && res.status < 400)
    return {
      kind: 'redirect',
      status: res.status,
      location: new URL(res.headers.get('location')!),
    };
  const html = await res.text();
  const kind = html.includes('action="/login"')
    ? 'login'
    : html.includes('action="/consent"')
      ? 'consent'
      : html.includes('action="/session/end"')
        ? 'logout'
        : 'error';
  return { kind, status: res.status, html };
}

/** Walks authorize → (login) → (consent, approved) → redirect; returns the final redirect. */
export async function signIn(
  browser: HttpBrowser,
  server: TestServer,
  url: string,
  email: string,
  password = PASSWORD,
): Promise<URL> {
  let page = await readPage(await browser.get(url));
  if (page.kind === 'login')
    page = await readPage(
      await browser.post(`${server.url}/login`, { ...hiddenFields(page.html), email, password }),
    );
  if (page.kind === 'consent')
    page = await readPage(
      await browser.post(`${server.url}/consent`, {
        ...hiddenFields(page.html),
        decision: 'allow',
      }),
    );
  if (page.kind !== 'redirect')
    throw new Error(`expected a redirect, got a ${page.kind} page (${page.status})`);
  return page.location;
}

export async function exchangeCode(
  server: TestServer,
  fc: FlowClient,
  form: Record<string, string | undefined>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: REDIRECT });
  for (const [k, v] of Object.entries(form)) {
    if (v === undefined) body.delete(k);
    else body.set(k, v);
  }
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (fc.secret) headers.authorization = basic(fc);
  else body.set('client_id', fc.client.id);
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers,
    body: body.toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
