/**
 * Resource indicators (RFC 8707) on /authorize, over real HTTP: `resource` may repeat, each
 * value must be an absolute URI without a fragment registered for the client, errors go back
 * to the verified redirect URI as invalid_target (never when the client or redirect URI is not
 * trusted), the consent page names the resources and the consent remembers them, and the code
 * carries them to the token endpoint.
 */
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
  pkcePair,
  readPage,
  REDIRECT,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import { PASSWORD } from '../../support/fixtures';
import type { UserRecord } from '../../../src/accounts/user-storage';

const ORDERS = 'https://orders.example.test';
const BILLING = 'https://billing.example.test/v1';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server, { audiences: [ORDERS, BILLING] });
});
afterAll(async () => {
  await server?.stop();
});

/** An authorization URL for `fc` with `resource` once per value. */
function urlWith(
  fc: FlowClient,
  resources: string[],
  pkce = pkcePair(),
  extra: Record<string, string | undefined> = {},
): string {
  const url = new URL(authorizeUrl(server, codeRequest(fc.client, pkce, extra)));
  for (const r of resources) url.searchParams.append('resource', r);
  return url.toString();
}

/** The redirect /authorize answers at once (no page), as a URL. */
async function redirectOf(url: string, browser = new HttpBrowser()): Promise<URL> {
  const page = await readPage(await browser.get(url));
  if (page.kind !== 'redirect') throw new Error(`expected a redirect, got a ${page.kind} page`);
  return page.location;
}

describe('/authorize refuses bad resources with invalid_target at the redirect URI', () => {
  it.each([
    ['an unregistered resource', ['https://evil.example.test']],
    ['a relative URI', ['/orders']],
    ['a URI with a fragment', [`${ORDERS}#frag`]],
    ['one bad value among good ones', [ORDERS, 'orders']],
  ])('%s', async (_name, resources) => {
    const location = await redirectOf(urlWith(rp, resources));
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe('invalid_target');
    expect(location.searchParams.get('error_description')).toMatch(/^resource /);
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(server.config.issuer);
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('more than 20 values is invalid_request', async () => {
    const location = await redirectOf(
      urlWith(
        rp,
        Array.from({ length: 21 }, () => ORDERS),
      ),
    );
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('never redirects for an unregistered redirect URI, whatever the resource', async () => {
    const res = await new HttpBrowser().get(
      urlWith(rp, ['relative'], pkcePair(), { redirect_uri: 'https://attacker.example/cb' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('a repeated parameter other than resource still gets an error page', async () => {
    const url = `${urlWith(rp, [ORDERS, BILLING])}&state=again`;
    const res = await new HttpBrowser().get(url);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('Parameter state is repeated');
  });
});

describe('resources through login, consent and the code', () => {
  it('the consent page names the resources; the token is for them; consent is remembered', async () => {
    const browser = new HttpBrowser();
    const pkce = pkcePair();
    let page = await readPage(await browser.get(urlWith(rp, [ORDERS, BILLING], pkce)));
    expect(page.kind).toBe('login');
    page = await readPage(
      await browser.post(`${server.url}/login`, {
        ...hiddenFields((page as { html: string }).html),
        email: user.email,
        password: PASSWORD,
      }),
    );
    expect(page.kind).toBe('consent');
    const html = (page as { html: string }).html;
    expect(html).toContain(ORDERS);
    expect(html).toContain(BILLING);
    page = await readPage(
      await browser.post(`${server.url}/consent`, { ...hiddenFields(html), decision: 'allow' }),
    );
    expect(page.kind).toBe('redirect');
    const code = (page as { location: URL }).location.searchParams.get('code')!;
    const tokens = await exchangeCode(server, rp, { code, code_verifier: pkce.verifier });
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.access_token as string).aud).toEqual([ORDERS, BILLING]);

    // Approved once: the same resources (or fewer) need no page, even with prompt=none.
    const again = await redirectOf(urlWith(rp, [BILLING], pkcePair(), { prompt: 'none' }), browser);
    expect(again.searchParams.get('code')).toBeTruthy();
  });

  it('a resource the user has not approved asks for consent again', async () => {
    const browser = new HttpBrowser();
    const fresh = await makeUser(server);
    await signIn(browser, server, urlWith(rp, [ORDERS]), fresh.email);
    const silent = await redirectOf(
      urlWith(rp, [BILLING], pkcePair(), { prompt: 'none' }),
      browser,
    );
    expect(silent.searchParams.get('error')).toBe('consent_required');
    const page = await readPage(await browser.get(urlWith(rp, [BILLING])));
    expect(page.kind).toBe('consent');
  });

  it('a code for one resource cannot be exchanged for another (invalid_target)', async () => {
    const pkce = pkcePair();
    const location = await signIn(
      new HttpBrowser(),
      server,
      urlWith(rp, [ORDERS], pkce),
      user.email,
    );
    const code = location.searchParams.get('code')!;
    const refused = await exchangeCode(server, rp, {
      code,
      code_verifier: pkce.verifier,
      resource: BILLING,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
    // The refusal did not consume the code.
    const ok = await exchangeCode(server, rp, {
      code,
      code_verifier: pkce.verifier,
      resource: ORDERS,
    });
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token as string).aud).toBe(ORDERS);
  });

  it('without resource at /authorize, the exchange may name any registered resource', async () => {
    const pkce = pkcePair();
    const location = await signIn(new HttpBrowser(), server, urlWith(rp, [], pkce), user.email);
    const tokens = await exchangeCode(server, rp, {
      code: location.searchParams.get('code')!,
      code_verifier: pkce.verifier,
      resource: BILLING,
    });
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.access_token as string).aud).toBe(BILLING);
  });
});
