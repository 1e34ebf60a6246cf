/**
 * Browser login as a closed loop: each lane walks GET /authorize → the login page → POST /login
 * with the page's hidden fields (CSRF) and its cookies, until the redirect to the client with a
 * code (OpenID Connect Core §3.1.2.5), as a fresh browser does. It is argon2id-bound (tens a
 * second), so a few lanes in this process load the server fully and the orchestrator is not
 * the limit. A flow that does not end in a code redirect is an error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { LoadResult } from '../load/spec';

export const BROWSER_REDIRECT = 'https://rp.bench.example/cb';

export interface BrowserLoginSpec {
  name: string;
  baseUrl: string;
  clientId: string;
  /** One account per lane: only failed logins are throttled, but one account at a time is what a user does. */
  users: { email: string; password: string }[];
  warmupMs: number;
  durationMs: number;
}

class CookieJar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

async function oneLogin(spec: BrowserLoginSpec, user: { email: string; password: string }) {
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL('/authorize', spec.baseUrl);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: spec.clientId,
    redirect_uri: BROWSER_REDIRECT,
    scope: 'openid',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }))
    authorize.searchParams.set(k, v);
  const page = await fetch(authorize, { redirect: 'manual' });
  jar.take(page);
  const html = await page.text();
  if (page.status !== 200 || !html.includes('action="/login"'))
    throw new Error(`authorize: HTTP ${page.status}, no login form`);
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    form.set(unescapeHtml(m[1]!), unescapeHtml(m[2]!));
  form.set('email', user.email);
  form.set('password', user.password);
  const res = await fetch(new URL('/login', spec.baseUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: form.toString(),
  });
  await res.arrayBuffer();
  const location = res.headers.get('location') ?? '';
  if (res.status < 300 || res.status >= 400 || !location.startsWith(BROWSER_REDIRECT))
    throw new Error(`login: HTTP ${res.status}${location ? '' : ', no redirect'}`);
  if (!new URL(location).searchParams.get('code')) throw new Error('login: redirect without code');
}

/** Runs the loop: a warm-up, then durationMs measured; logins completed per second, latency of a whole flow. */
export async function runBrowserLogins(spec: BrowserLoginSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  const samples = new Set<string>();
  let errors = 0;
  const start = performance.now();
  const open = start + spec.warmupMs;
  const close = open + spec.durationMs;
  const lane = async (user: { email: string; password: string }) => {
    while (performance.now() < close) {
      const t0 = performance.now();
      try {
        await oneLogin(spec, user);
        const t1 = performance.now();
        if (t1 >= open && t1 <= close) latencies.push(t1 - t0);
      } catch (err) {
        errors++;
        if (samples.size < 5) samples.add((err as Error).message);
      }
    }
  };
  await Promise.all(spec.users.map(lane));
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies.length
      ? Math.round(
          latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 100,
        ) / 100
      : 0;
  if (latencies.length === 0) {
    errors++;
    samples.add('no login completed inside the measured window');
  }
  const seconds = spec.durationMs / 1000;
  return {
    name: spec.name,
    connections: spec.users.length,
    requests: latencies.length,
    seconds,
    rps: Math.round((latencies.length / seconds) * 10) / 10,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: at(1),
    errors,
    errorSamples: [...samples],
    bodiesChecked: latencies.length,
    generatorCpu: 0,
    warmupMs: spec.warmupMs,
  };
}
