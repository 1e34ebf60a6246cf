/**
 * Loopback redirect URIs (RFC 8252 §7.3): a native or CLI app registers
 * `http://127.0.0.1/callback` (or `http://[::1]/callback`) and listens on whatever port the OS
 * gave it, so /authorize accepts any port there; every other part of the URI, and every other
 * redirect URI (`localhost` included, RFC 8252 §8.3), is still matched character for character.
 */
import { startTestServer, type TestServer } from '../../support/server';
import {
  authorizeUrl,
  codeRequest,
  exchangeCode,
  HttpBrowser,
  makeClient,
  makeUser,
  pkcePair,
  readPage,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';

const V4 = 'http://127.0.0.1/callback';
const V6 = 'http://[::1]/callback';
const WITH_PORT = 'http://127.0.0.1:8400/native?app=1';
const LOCALHOST = 'http://localhost:8080/cb';
const HTTPS = 'https://rp.example/cb';

let server: TestServer;
let user: UserRecord;
let app: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  app = await makeClient(server, {
    firstParty: true,
    isPublic: true,
    redirectUris: [V4, V6, WITH_PORT, LOCALHOST, HTTPS],
  });
});
afterAll(async () => {
  await server?.stop();
});

async function authorize(redirectUri: string): Promise<{ status: number; location: URL | null }> {
  const page = await readPage(
    await new HttpBrowser().get(
      authorizeUrl(
        server,
        codeRequest(app.client, pkcePair(), { redirect_uri: redirectUri, prompt: 'none' }),
      ),
    ),
  );
  return { status: page.status, location: page.kind === 'redirect' ? page.location : null };
}

describe('/authorize: loopback IP redirect URIs accept any port (RFC 8252 §7.3)', () => {
  it.each([
    ['127.0.0.1 with an ephemeral port', 'http://127.0.0.1:53123/callback'],
    ['127.0.0.1 with port 1', 'http://127.0.0.1:1/callback'],
    ['127.0.0.1 with port 65535', 'http://127.0.0.1:65535/callback'],
    ['127.0.0.1 exactly as registered', V4],
    ['[::1] with an ephemeral port', 'http://[::1]:61000/callback'],
    ['a registered port replaced by another', 'http://127.0.0.1:9999/native?app=1'],
    ['a registered port left out', 'http://127.0.0.1/native?app=1'],
  ])('%s: the redirect goes to the requested port', async (_name, requested) => {
    const res = await authorize(requested);
    expect(res.status).toBe(302);
    // prompt=none without a session: the error is sent to the (accepted) redirect URI itself.
    expect(res.location?.searchParams.get('error')).toBe('login_required');
    expect(`${res.location!.origin}${res.location!.pathname}`).toBe(requested.replace(/\?.*$/, ''));
  });

  it.each([
    ['another path', 'http://127.0.0.1:53123/other'],
    ['a trailing slash', 'http://127.0.0.1:53123/callback/'],
    ['an extra query', 'http://127.0.0.1:53123/callback?x=1'],
    ['https instead of http', 'https://127.0.0.1:53123/callback'],
    ['another loopback address', 'http://127.0.0.2:53123/callback'],
    ['a hex spelling of 127.0.0.1', 'http://0x7f.0.0.1:53123/callback'],
    ['userinfo before the host', 'http://evil@127.0.0.1:53123/callback'],
    ['port 0', 'http://127.0.0.1:0/callback'],
    ['a port above 65535', 'http://127.0.0.1:65536/callback'],
    ['a port with a leading zero', 'http://127.0.0.1:053123/callback'],
    ['an empty port', 'http://127.0.0.1:/callback'],
    [
      'localhost on another port (a DNS name, exact match: RFC 8252 §8.3)',
      'http://localhost:9090/cb',
    ],
    ['localhost without its port', 'http://localhost/cb'],
    ['an https URI with a port added', 'https://rp.example:8443/cb'],
    ['a loopback host not registered with this path', 'http://[::1]:53123/native?app=1'],
  ])('%s: an error page, never a redirect', async (_name, requested) => {
    expect(await authorize(requested)).toEqual({ status: 400, location: null });
  });
});

describe('the code grant insists on the exact redirect_uri of the authorization request (RFC 6749 §4.1.3)', () => {
  async function codeFor(redirectUri: string): Promise<{ code: string; verifier: string }> {
    const pkce = pkcePair();
    const location = await signIn(
      new HttpBrowser(),
      server,
      authorizeUrl(server, codeRequest(app.client, pkce, { redirect_uri: redirectUri })),
      user.email,
    );
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    return { code: location.searchParams.get('code')!, verifier: pkce.verifier };
  }

  it('redeems with the same port the authorization request used', async () => {
    const { code, verifier } = await codeFor('http://127.0.0.1:53123/callback');
    const res = await exchangeCode(server, app, {
      code,
      code_verifier: verifier,
      redirect_uri: 'http://127.0.0.1:53123/callback',
    });
    expect(res.status).toBe(200);
  });

  it.each([
    ['another port', 'http://127.0.0.1:53124/callback'],
    ['the registered URI without a port', V4],
  ])('refuses %s with invalid_grant', async (_name, redirectUri) => {
    const { code, verifier } = await codeFor('http://127.0.0.1:53123/callback');
    expect(
      await exchangeCode(server, app, { code, code_verifier: verifier, redirect_uri: redirectUri }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});
