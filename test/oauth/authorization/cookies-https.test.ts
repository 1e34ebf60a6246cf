import { startTestServer, type TestServer, freePort } from '../../support/server';
import {
  authorizeUrl,
  codeRequest,
  hiddenFields,
  HttpBrowser,
  makeClient,
  makeUser,
  PASSWORD,
  pkcePair,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;

beforeAll(async () => {
  // An https issuer (TLS would end at a proxy); the server itself still listens on http here.
  server = await startTestServer({ env: { ISSUER: `https://127.0.0.1:${await freePort()}` } });
  user = await makeUser(server);
  rp = await makeClient(server, { firstParty: true });
});
afterAll(async () => {
  await server?.stop();
});

describe('cookies on an https issuer', () => {
  it('use the __Host- prefix with Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain', async () => {
    const browser = new HttpBrowser();
    const loginRes = await browser.get(authorizeUrl(server, codeRequest(rp.client, pkcePair())));
    const binding = loginRes.headers
      .getSetCookie()
      .find((c) => c.startsWith('__Host-tessera_browser='))!;
    const res = await browser.post(`${server.url}/login`, {
      ...hiddenFields(await loginRes.text()),
      email: user.email,
      password: PASSWORD,
    });
    expect(res.status).toBe(303);
    const session = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('__Host-tessera_session='))!;
    for (const cookie of [binding, session]) {
      const attrs = cookie.split(';').map((a) => a.trim());
      expect(attrs).toEqual(
        expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']),
      );
      expect(attrs.some((a) => /^domain=/i.test(a))).toBe(false);
    }
    expect(new URL(res.headers.get('location')!).searchParams.get('iss')).toBe(
      server.config.issuer,
    );
  });
});
