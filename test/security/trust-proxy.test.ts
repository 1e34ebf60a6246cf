/**
 * TRUST_PROXY (issue 7): X-Forwarded-For decides the client IP — which the per-IP login
 * limits count — only when configured. Otherwise an attacker could dodge the per-IP limit by
 * sending a new X-Forwarded-For with every guess.
 */
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, PASSWORD, token, type TestClient } from '../support/fixtures';

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

  it(
    trust === 'true'
      ? 'counts failures per forwarded client IP'
      : 'ignores X-Forwarded-For and counts the peer address',
    async () => {
      // Three failures, each claiming a different client IP, against different accounts.
      for (let i = 1; i <= 3; i++) {
        const victim = await makeUser(server);
        const res = await token(
          server,
          app,
          { grant_type: 'password', username: victim.email, password: 'guess', scope: 'openid' },
          { ip: `203.0.113.${i}` },
        );
        expect(res.body.error).toBe('invalid_grant');
      }
      const me = await makeUser(server);
      const next = await token(
        server,
        app,
        { grant_type: 'password', username: me.email, password: PASSWORD, scope: 'openid' },
        { ip: '203.0.113.99' },
      );
      if (trust === 'true') {
        expect(next.status).toBe(200); // a new forwarded IP with no failures of its own
      } else {
        expect(next.status).toBe(429); // the real peer (127.0.0.1) made three failures
        expect(next.body.error).toBe('invalid_grant');
      }
    },
  );
});

/**
 * An appending proxy (nginx's `$proxy_add_x_forwarded_for`, cloud load balancers) keeps what
 * the client wrote and adds the peer it saw on the right: only the right-most
 * TRUST_PROXY_HOPS entries were written by proxies we run, so the client IP is the
 * TRUST_PROXY_HOPS-th from the right, whatever the client put on the left.
 */
describe.each([
  ['one proxy (the default)', {}, (client: string) => `6.6.6.6, ${client}`],
  [
    'TRUST_PROXY_HOPS=2',
    { TRUST_PROXY_HOPS: '2' },
    (client: string) => `6.6.6.6, ${client}, 10.0.0.7`,
  ],
])('with TRUST_PROXY and %s', (_name, env, forwarded) => {
  let server: TestServer;
  let app: TestClient;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...LIMITS, TRUST_PROXY: 'true', ...env } });
    app = await makeClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('records the address the proxy saw in the audit trail, not the one the client wrote', async () => {
    const victim = await makeUser(server);
    const res = await token(
      server,
      app,
      { grant_type: 'password', username: victim.email, password: 'guess' },
      { ip: forwarded('10.1.2.3') },
    );
    expect(res.body.error).toBe('invalid_grant');
    const [event] = await server.services.audit.list({ userId: victim.id, type: 'login.failure' });
    expect(event?.ip).toBe('10.1.2.3');
  });

  it('counts failures under that address however the client varies the left-most entry', async () => {
    for (let i = 1; i <= 3; i++) {
      const victim = await makeUser(server);
      const res = await token(
        server,
        app,
        { grant_type: 'password', username: victim.email, password: 'guess' },
        { ip: forwarded('10.4.4.4').replace('6.6.6.6', `198.51.100.${i}`) },
      );
      expect(res.body.error).toBe('invalid_grant');
    }
    const me = await makeUser(server);
    const next = await token(
      server,
      app,
      { grant_type: 'password', username: me.email, password: PASSWORD },
      { ip: forwarded('10.4.4.4').replace('6.6.6.6', '198.51.100.99') },
    );
    expect(next.status).toBe(429);
  });
});
