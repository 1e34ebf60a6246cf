/**
 * Brute-force limits of password login (src/accounts/login.ts), seen through the password
 * grant: per-account and per-IP counters in PostgreSQL, exponential bounded backoff with 429
 * + Retry-After, reset on success, forgotten after the window. Time is moved, not waited.
 */
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, PASSWORD, token, type TestClient } from '../support/fixtures';

let server: TestServer;
let app: TestClient;
let ipSeq = 0;
const freshIp = () => `198.51.100.${++ipSeq}`;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES: '3',
      IP_MAX_FAILURES: '5',
      LOGIN_BACKOFF_BASE: '10',
      LOGIN_BACKOFF_MAX: '60',
      LOGIN_FAILURE_WINDOW: '600',
    },
  });
  app = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

const attempt = (email: string, password: string, ip = freshIp()) =>
  token(
    server,
    app,
    { grant_type: 'password', username: email, password, scope: 'api:read' },
    { ip },
  );

describe('brute-force protection of password login', () => {
  it('backs off an account after LOGIN_MAX_FAILURES, doubling up to LOGIN_BACKOFF_MAX, never for good', async () => {
    const user = await makeUser(server);
    for (let i = 0; i < 3; i++)
      expect((await attempt(user.email, 'wrong password')).body.error).toBe('invalid_grant');

    // Even the right password is refused while blocked, from any IP.
    const blocked = await attempt(user.email, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('10');
    // RFC 6749 §5.2's code for credentials the token endpoint refuses; 429 and Retry-After say when to retry.
    expect(blocked.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Too many failed login attempts; retry later',
    });
    expect(blocked.headers.get('cache-control')).toBe('no-store');

    // Each failure after a block doubles it: 20, 40, then capped at 60 s.
    for (const expected of ['20', '40', '60', '60']) {
      server.clock.advance(61);
      expect((await attempt(user.email, 'wrong password')).status).toBe(400);
      expect((await attempt(user.email, PASSWORD)).headers.get('retry-after')).toBe(expected);
    }
    server.clock.advance(61);
    expect((await attempt(user.email, PASSWORD)).status).toBe(200);
  });

  it('a success resets the account counter', async () => {
    const user = await makeUser(server);
    for (let i = 0; i < 2; i++) await attempt(user.email, 'wrong password');
    expect((await attempt(user.email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await attempt(user.email, 'wrong password')).status).toBe(400);
    expect((await attempt(user.email, PASSWORD)).status).toBe(200);
  });

  it('counts per client IP across accounts, and a success does not clear the IP counter', async () => {
    const ip = freshIp();
    const victims = await Promise.all(Array.from({ length: 5 }, () => makeUser(server)));
    const mine = await makeUser(server);
    for (const v of victims.slice(0, 4))
      expect((await attempt(v.email, 'spray-password', ip)).status).toBe(400);
    expect((await attempt(mine.email, PASSWORD, ip)).status).toBe(200);
    expect((await attempt(victims[4]!.email, 'spray-password', ip)).status).toBe(400); // 5th failure from this IP
    const res = await attempt(mine.email, PASSWORD, ip);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same account from another IP is fine: only the IP is slowed down.
    expect((await attempt(mine.email, PASSWORD, freshIp())).status).toBe(200);
  });

  it('a refusal for a blocked account does not count against the IP, nor a refusal for a blocked IP against the account', async () => {
    const locked = await makeUser(server);
    for (let i = 0; i < 3; i++) await attempt(locked.email, 'wrong password');
    const ip = freshIp();
    for (let i = 0; i < 6; i++)
      expect((await attempt(locked.email, PASSWORD, ip)).status).toBe(429);
    const other = await makeUser(server);
    expect((await attempt(other.email, PASSWORD, ip)).status).toBe(200); // 6 refusals did not block this IP

    const sprayIp = freshIp();
    const victims = await Promise.all(Array.from({ length: 5 }, () => makeUser(server)));
    for (const v of victims) await attempt(v.email, 'spray-password', sprayIp);
    const mine = await makeUser(server);
    for (let i = 0; i < 4; i++)
      expect((await attempt(mine.email, PASSWORD, sprayIp)).status).toBe(429);
    expect((await attempt(mine.email, PASSWORD, freshIp())).status).toBe(200); // the account was not counted
  });

  it('unknown accounts are counted like real ones (a 429 does not reveal existence)', async () => {
    const email = 'ghost-account@example.com';
    for (let i = 0; i < 3; i++)
      expect((await attempt(email, 'x')).body.error).toBe('invalid_grant');
    expect((await attempt(email, 'x')).status).toBe(429);
  });

  it('counters are forgotten LOGIN_FAILURE_WINDOW after the last failure', async () => {
    const user = await makeUser(server);
    for (let i = 0; i < 2; i++) await attempt(user.email, 'wrong password');
    server.clock.advance(601);
    for (let i = 0; i < 2; i++)
      expect((await attempt(user.email, 'wrong password')).status).toBe(400);
    expect((await attempt(user.email, PASSWORD)).status).toBe(200);
  });

  it('a burst of parallel guesses gets no more tries than LOGIN_MAX_FAILURES', async () => {
    const user = await makeUser(server);
    const replies = await Promise.all(
      Array.from({ length: 12 }, () => attempt(user.email, 'parallel guess')),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 400)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });

  it('audits the lockout', async () => {
    const user = await makeUser(server);
    for (let i = 0; i < 3; i++) await attempt(user.email, 'wrong password');
    const events = await server.services.audit.list({ userId: user.id, type: 'login.lockout' });
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toMatchObject({ scope: 'account', failures: 3 });
  });
});
