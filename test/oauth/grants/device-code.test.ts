/**
 * The device authorization grant (RFC 8628) over real HTTP: /device/authorization, the /device
 * pages walked by a cookie-keeping client, and polling /token — pending, slow_down (remembered
 * per device_code), approval and single redemption, denial, expiry, and the per-client opt-in.
 */
import { createHash } from 'node:crypto';
import { purgeOnce } from '../../../src/observability/purge';
import { HttpBrowser } from '../../support/code-flow';
import { approveDevice, DEVICE_GRANT, deviceAuthorization, pollDevice } from '../../support/device';
import { decodeJwt, makeClient, makeUser, token, type TestClient } from '../../support/fixtures';
import { useTestServer, type TestServer } from '../../support/server';
import type { UserRecord } from '../../../src/accounts/user-storage';

const server = useTestServer();
let s: TestServer;
let user: UserRecord;
let tv: TestClient;
let cli: TestClient;
let webOnly: TestClient;

beforeAll(async () => {
  s = server();
  user = await makeUser(s);
  tv = await makeClient(s, { name: 'Living Room TV', grantTypes: [DEVICE_GRANT, 'refresh_token'] });
  cli = await makeClient(s, {
    name: 'Tessera CLI',
    isPublic: true,
    tokenEndpointAuthMethod: 'none',
    grantTypes: [DEVICE_GRANT],
  });
  webOnly = await makeClient(s, { grantTypes: ['client_credentials'] });
});

async function start(c: TestClient, params: Record<string, string> = {}) {
  const res = await deviceAuthorization(s, c, params);
  expect(res.status).toBe(200);
  return res.body as {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete: string;
    expires_in: number;
    interval: number;
  };
}

describe('POST /device/authorization (RFC 8628 §3.1–§3.2)', () => {
  it('answers the codes, the verification URIs, expires_in and interval; stores only hashes', async () => {
    const res = await deviceAuthorization(s, tv, { scope: 'openid offline_access' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    const body = res.body as Record<string, string | number>;
    expect(body).toEqual({
      device_code: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/),
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${s.config.issuer}/device`,
      verification_uri_complete: `${s.config.issuer}/device?user_code=${String(body.user_code)}`,
      expires_in: 600,
      interval: 5,
    });
    const rows = await s.services.db.prisma.deviceAuthorization.findMany({
      where: { clientId: tv.client.id },
    });
    const sha = (v: string) => createHash('sha256').update(v).digest('base64url');
    expect(rows.some((r) => r.deviceCodeHash === sha(String(body.device_code)))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(String(body.device_code));
    expect(JSON.stringify(rows)).not.toContain(String(body.user_code).replace('-', ''));
  });

  it('a public client authenticates with client_id alone', async () => {
    expect((await start(cli)).user_code).toMatch(/^\w{4}-\w{4}$/);
  });

  it('a client without the grant type gets unauthorized_client', async () => {
    const res = await deviceAuthorization(s, webOnly);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });

  it.each([
    ['a scope the client lacks', { scope: 'openid admin' }, 'invalid_scope'],
    ['an unregistered resource', { resource: 'https://api.example/' }, 'invalid_target'],
  ])('%s → %s', async (_name, params, error) => {
    const res = await deviceAuthorization(s, tv, params);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(error);
  });

  it('a wrong client secret gets invalid_client', async () => {
    const res = await deviceAuthorization(s, { ...tv, secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });
});

describe('polling /token with grant_type=urn:ietf:params:oauth:grant-type:device_code', () => {
  it('authorization_pending, then slow_down when polled faster than the interval (+5 s, remembered)', async () => {
    const codes = await start(tv);
    const first = await pollDevice(s, tv, codes.device_code);
    expect([first.status, first.body.error]).toEqual([400, 'authorization_pending']);
    // Right away again: too fast; the interval becomes 10 s.
    const second = await pollDevice(s, tv, codes.device_code);
    expect([second.status, second.body.error]).toEqual([400, 'slow_down']);
    // 6 s later: fine for the old interval, too fast for the new one.
    s.clock.advance(6);
    expect((await pollDevice(s, tv, codes.device_code)).body.error).toBe('slow_down');
    // Now 15 s: waiting that long is pending again.
    s.clock.advance(15);
    expect((await pollDevice(s, tv, codes.device_code)).body.error).toBe('authorization_pending');
  });

  it('approved on /device: tokens as for the code flow (ID token with sid, amr, auth_time; refresh token); redeemed once', async () => {
    const codes = await start(tv, { scope: 'openid profile offline_access' });
    const done = await approveDevice(s, codes.user_code, user.email);
    expect(done.status).toBe(200);
    expect(done.html).toContain('Device connected');
    const res = await pollDevice(s, tv, codes.device_code);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      scope: 'openid profile offline_access',
    });
    expect(typeof res.body.refresh_token).toBe('string');
    const id = decodeJwt(String(res.body.id_token)).payload;
    expect(id).toMatchObject({ sub: user.id, aud: tv.client.id, amr: ['pwd'] });
    expect(typeof id.sid).toBe('string');
    expect(typeof id.auth_time).toBe('number');
    // The refresh token works like the code flow's.
    const refreshed = await token(s, tv, {
      grant_type: 'refresh_token',
      refresh_token: String(res.body.refresh_token),
    });
    expect(refreshed.status).toBe(200);

    s.clock.advance(10);
    const again = await pollDevice(s, tv, codes.device_code);
    expect([again.status, again.body.error]).toEqual([400, 'invalid_grant']);
  });

  it('two concurrent polls of an approved device_code: exactly one gets tokens', async () => {
    const codes = await start(tv, { scope: 'openid' });
    await approveDevice(s, codes.user_code, user.email);
    const replies = await Promise.all([1, 2, 3].map(() => pollDevice(s, tv, codes.device_code)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    for (const r of replies.filter((x) => x.status === 400))
      expect(r.body.error).toBe('invalid_grant');
  });

  it('without openid no ID token; without refresh_token grant no refresh token', async () => {
    const codes = await start(cli, { scope: 'profile' });
    await approveDevice(s, codes.user_code, user.email);
    const res = await pollDevice(s, cli, codes.device_code);
    expect(res.status).toBe(200);
    expect(res.body.id_token).toBeUndefined();
    expect(res.body.refresh_token).toBeUndefined();
  });

  it('denied on /device → access_denied', async () => {
    const codes = await start(tv);
    const done = await approveDevice(s, codes.user_code, user.email, 'deny');
    expect(done.html).toContain('Request denied');
    const res = await pollDevice(s, tv, codes.device_code);
    expect([res.status, res.body.error]).toEqual([400, 'access_denied']);
  });

  it('past expires_in → expired_token, and the code can no longer be approved', async () => {
    const codes = await start(tv);
    s.clock.advance(codes.expires_in + 1);
    const res = await pollDevice(s, tv, codes.device_code);
    expect([res.status, res.body.error]).toEqual([400, 'expired_token']);
    await expect(approveDevice(s, codes.user_code, user.email)).rejects.toThrow(
      /expected the confirmation page, got 400/,
    );
  });

  it("another client's device_code, or an unknown one → invalid_grant", async () => {
    const codes = await start(tv);
    for (const [c, code] of [
      [cli, codes.device_code],
      [tv, 'not-a-device-code'],
    ] as const) {
      const res = await pollDevice(s, c, code);
      expect([res.status, res.body.error]).toEqual([400, 'invalid_grant']);
    }
  });

  it('a client without the grant type → unauthorized_client; a missing device_code → invalid_request', async () => {
    const codes = await start(tv);
    const res = await token(s, webOnly, {
      grant_type: DEVICE_GRANT,
      device_code: codes.device_code,
    });
    expect([res.status, res.body.error]).toEqual([400, 'unauthorized_client']);
    const missing = await token(s, tv, { grant_type: DEVICE_GRANT });
    expect([missing.status, missing.body.error]).toEqual([400, 'invalid_request']);
    expect(missing.body.error_description).toMatch(/device_code/);
  });

  it('discovery advertises the endpoint and the grant type', async () => {
    const doc = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc.device_authorization_endpoint).toBe(`${s.config.issuer}/device/authorization`);
    expect(doc.grant_types_supported).toContain(DEVICE_GRANT);
  });

  it('the purge job deletes expired device authorizations', async () => {
    await start(tv);
    s.clock.advance(3600);
    const report = await purgeOnce(s.services);
    expect(report.deleted.device_authorizations).toBeGreaterThan(0);
    const left = await s.services.db.prisma.deviceAuthorization.count({
      where: { expiresAt: { lt: s.clock.now() } },
    });
    expect(left).toBe(0);
  });
});

it('HttpBrowser keeps the session: a second device is approved without signing in again', async () => {
  const browser = new HttpBrowser();
  const one = await start(tv);
  await approveDevice(s, one.user_code, user.email, 'allow', browser);
  const two = await start(tv);
  const done = await approveDevice(s, two.user_code, 'unused@example.com', 'allow', browser);
  expect(done.html).toContain('Device connected');
  expect((await pollDevice(s, tv, two.device_code)).status).toBe(200);
});
