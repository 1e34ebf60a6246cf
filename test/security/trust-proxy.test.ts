/**
 * TRUST_PROXY (issue 7): X-Forwarded-For decides the client IP — which the per-IP login
 * limits count — only when configured. Otherwise an attacker could dodge the per-IP limit by
 * sending a new X-Forwarded-For with every guess.
 */
import { startTestServer, type TestServer } from '../helpers/server';
import { makeClient, makeUser, PASSWORD, token, type TestClient } from '../oauth/grant-fixtures';

const LIMITS = { IP_MAX_FAILURES: '3', LOGIN_MAX_FAILURES: '100', LOGIN_BACKOFF_BASE: '60' };

describe.each([
  ['without TRUST_PROXY', 'false'],
  ['with TRUST_PROXY', 'true'],
])('%s', (_name, trust) => {
  let server: TestServer;
  let app: TestClient;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...LIMITS, TRUST_PROXY: trust } });
    app = await makeClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(trust === 'true' ? 'counts failures per forwarded client IP' : 'ignores X-Forwarded-For and counts the peer address', async () => {
    // Three failures, each claiming a different client IP, against different accounts.
    for (let i = 1; i <= 3; i++) {
      const victim = await makeUser(server);
      const res = await token(server, app, { grant_type: 'password', username: victim.email, password: 'guess', scope: 'openid' }, { ip: `203.0.113.${i}` });
      expect(res.body.error).toBe('invalid_grant');
    }
    const me = await makeUser(server);
    const next = await token(server, app, { grant_type: 'password', username: me.email, password: PASSWORD, scope: 'openid' }, { ip: '203.0.113.99' });
    if (trust === 'true') {
      expect(next.status).toBe(200); // a new forwarded IP with no failures of its own
    } else {
      expect(next.status).toBe(429); // the real peer (127.0.0.1) made three failures
      expect(next.body.error).toBe('slow_down');
    }
  });
});
