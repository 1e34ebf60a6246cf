/**
 * OpenID Connect Back-Channel Logout 1.0 end to end: relying parties (real HTTP receivers on
 * 127.0.0.1, OUTBOUND_ALLOW_PRIVATE=true) get logout tokens, verified with jose against the
 * server's JWKS, when the user's session with them ends — and only they do. Delivery is
 * durable (a receiver that is down, a server restarted in between), bounded, and never holds
 * up the signed-out page.
 */
import { randomBytes } from 'node:crypto';
import { createClientFromMetadata, updateClient } from '../../../src/admin/clients';
import { setUserDisabled } from '../../../src/admin/users';
import { metadataOfClient } from '../../../src/clients/client-metadata';
import type { UserRecord } from '../../../src/accounts/user-storage';
import {
  authorizeUrl,
  codeRequest,
  exchangeCode,
  HttpBrowser,
  makeClient,
  makeUser,
  pkcePair,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import { createTestDatabase } from '../../support/database';
import { approveDevice, DEVICE_GRANT, deviceAuthorization, pollDevice } from '../../support/device';
import { LogoutReceiver, verifyLogoutToken } from '../../support/logout-receiver';
import { startTestServer, type TestServer } from '../../support/server';
import { decodePayload, login } from '../../support/tokens';

const RETRY_BASE = 5;
const GIVE_UP_AFTER = 3600;
const env = {
  OUTBOUND_ALLOW_PRIVATE: 'true',
  BACKCHANNEL_LOGOUT_POLL_INTERVAL_MS: '100',
  BACKCHANNEL_LOGOUT_RETRY_BASE: String(RETRY_BASE),
  BACKCHANNEL_LOGOUT_GIVE_UP_AFTER: String(GIVE_UP_AFTER),
  BACKCHANNEL_LOGOUT_TIMEOUT_MS: '3000',
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

let server: TestServer;
const receivers: LogoutReceiver[] = [];
beforeAll(async () => {
  server = await startTestServer({ env });
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await server?.stop();
});

async function receiver(options: { down?: boolean } = {}): Promise<LogoutReceiver> {
  const r = await LogoutReceiver.start(options);
  receivers.push(r);
  return r;
}

/** A first-party client (no consent page) with its logout endpoint at `r`, or none. */
function rp(s: TestServer, r?: LogoutReceiver, extra: Parameters<typeof makeClient>[1] = {}) {
  return makeClient(s, { firstParty: true, backchannelLogoutUri: r?.uri ?? null, ...extra });
}

interface Tokens {
  idToken: string;
  accessToken: string;
  sid: string;
}

/** The code flow in `browser` (one SSO session for every client signed in with it). */
async function signInTo(
  s: TestServer,
  browser: HttpBrowser,
  fc: FlowClient,
  user: UserRecord,
): Promise<Tokens> {
  const pkce = pkcePair();
  const loc = await signIn(browser, s, authorizeUrl(s, codeRequest(fc.client, pkce)), user.email);
  const { status, body } = await exchangeCode(s, fc, {
    code: loc.searchParams.get('code')!,
    code_verifier: pkce.verifier,
  });
  expect(status).toBe(200);
  const idToken = body.id_token as string;
  return {
    idToken,
    accessToken: body.access_token as string,
    sid: decodePayload(idToken).sid as string,
  };
}

/** RP-initiated logout proven by the ID token of the current session: no confirmation page. */
function signOut(s: TestServer, browser: HttpBrowser, idToken: string): Promise<Response> {
  return browser.get(`${s.url}/session/end?id_token_hint=${encodeURIComponent(idToken)}`);
}

/** Waits until the outbox is empty (everything delivered or given up). */
async function drained(s: TestServer, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await s.services.logoutDeliveries.pending()).length > 0) {
    if (Date.now() > deadline) throw new Error('logout deliveries still pending');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the single pending delivery has been attempted `attempts` times. */
async function attempted(s: TestServer, attempts: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pending = await s.services.logoutDeliveries.pending();
    if (pending.length === 1 && pending[0]!.attempts >= attempts) {
      // Past the lease: the failed attempt has scheduled its retry.
      if (pending[0]!.attempts === attempts && !(await leased(s))) return;
    }
    if (Date.now() > deadline) throw new Error(`no attempt ${attempts}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function leased(s: TestServer): Promise<boolean> {
  const rows = await s.services.db.prisma.backchannelLogoutDelivery.findMany();
  return rows.some((r) => r.lastError === null);
}

async function auditDetails(s: TestServer, type: string, userId: string) {
  return (await s.services.audit.list({ type, userId })).map((e) => ({
    clientId: e.clientId,
    ...e.details,
  }));
}

describe('signing out of one relying party', () => {
  it('both relying parties of the SSO session get a valid logout token; nobody else does', async () => {
    const user = await makeUser(server);
    const [ra, rb, rd] = [await receiver(), await receiver(), await receiver()];
    const a = await rp(server, ra);
    const b = await rp(server, rb, { signingAlg: 'ES256' });
    const silent = await rp(server); // no backchannel_logout_uri
    const elsewhere = await rp(server, rd);
    const browser = new HttpBrowser();
    const atA = await signInTo(server, browser, a, user);
    const atB = await signInTo(server, browser, b, user);
    await signInTo(server, browser, silent, user);
    expect(atB.sid).toBe(atA.sid);
    // The same user in another browser: another session, which stays.
    const other = await signInTo(server, new HttpBrowser(), elsewhere, user);
    expect(other.sid).not.toBe(atA.sid);

    const page = await signOut(server, browser, atA.idToken);
    expect(page.status).toBe(200);

    for (const [r, fc] of [
      [ra, a],
      [rb, b],
    ] as const) {
      const [token] = await r.received(1);
      const claims = await verifyLogoutToken(server, token!, fc.client.id);
      expect(claims).toMatchObject({ sub: user.id, sid: atA.sid, aud: fc.client.id });
      expect(claims.jti).toEqual(expect.any(String));
    }
    await drained(server);
    expect(ra.tokens).toHaveLength(1);
    expect(rb.tokens).toHaveLength(1);
    expect(rd.tokens).toHaveLength(0);
    // §2.5: a form-encoded POST of logout_token, nothing else.
    expect([...ra.malformed, ...rb.malformed]).toEqual([]);
    // Each client signs as it registered (b: ES256), like its ID tokens.
    expect(JSON.parse(Buffer.from(rb.tokens[0]!.split('.')[0]!, 'base64url').toString()).alg).toBe(
      'ES256',
    );
    const delivered = await auditDetails(server, 'logout.backchannel_delivered', user.id);
    expect(delivered.map((d) => d.clientId).sort()).toEqual([a.client.id, b.client.id].sort());
    expect(await auditDetails(server, 'session.ended', user.id)).toEqual([
      expect.objectContaining({ backchannel_logout_tokens: 2 }),
    ]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /tessera_backchannel_logout_deliveries_total\{outcome="delivered"\} \d+/,
    );
  });

  it('the signed-out page answers while a relying party has not answered yet', async () => {
    const user = await makeUser(server);
    const slow = await receiver();
    slow.mode = 'hold';
    const fc = await rp(server, slow);
    const browser = new HttpBrowser();
    const { idToken } = await signInTo(server, browser, fc, user);
    const page = await signOut(server, browser, idToken);
    expect(page.status).toBe(200);
    await slow.received(1);
    // The receiver holds its answer: the page above was sent without waiting for it.
    expect(slow.heldCount).toBe(1);
    expect((await server.services.logoutDeliveries.pending()).length).toBe(1);
    slow.release();
    await drained(server);
  });

  it('a relying party that is down gets its token once it is back', async () => {
    const user = await makeUser(server);
    const down = await receiver({ down: true });
    const fc = await rp(server, down);
    const browser = new HttpBrowser();
    const { idToken, sid } = await signInTo(server, browser, fc, user);
    expect((await signOut(server, browser, idToken)).status).toBe(200);
    await attempted(server, 1);

    await down.listen();
    server.clock.advance(RETRY_BASE);
    const [token] = await down.received(1);
    expect(await verifyLogoutToken(server, token!, fc.client.id)).toMatchObject({ sid });
    await drained(server);
    expect(await auditDetails(server, 'logout.backchannel_delivered', user.id)).toEqual([
      expect.objectContaining({ clientId: fc.client.id, attempts: 2, reason: 'logout' }),
    ]);
  });

  it('400 (the RP refused the token) is given up at once; other errors are retried until the give-up time', async () => {
    const user = await makeUser(server);
    const refusing = await receiver();
    refusing.mode = 'reject';
    const failing = await receiver();
    failing.mode = 'error';
    const [r400, r500] = [await rp(server, refusing), await rp(server, failing)];
    const browser = new HttpBrowser();
    const { idToken } = await signInTo(server, browser, r400, user);
    await signInTo(server, browser, r500, user);
    await signOut(server, browser, idToken);
    await refusing.received(1);
    await failing.received(1);
    await attempted(server, 1);
    // Only the 500 is still queued; one back-off later it is tried again.
    expect((await server.services.logoutDeliveries.pending())[0]!.clientId).toBe(r500.client.id);
    server.clock.advance(RETRY_BASE);
    await failing.received(2);
    await attempted(server, 2);
    // Past BACKCHANNEL_LOGOUT_GIVE_UP_AFTER nothing more is tried.
    server.clock.advance(GIVE_UP_AFTER);
    await drained(server);
    expect(failing.tokens).toHaveLength(2);
    expect(refusing.tokens).toHaveLength(1);
    const failed = await auditDetails(server, 'logout.backchannel_failed', user.id);
    expect(failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          clientId: r400.client.id,
          outcome: 'rejected',
          status: 400,
          attempts: 1,
        }),
        expect.objectContaining({ clientId: r500.client.id, outcome: 'expired' }),
      ]),
    );
    // Given up after its two deliveries: the give-up may be decided by the second attempt's
    // result or by the next claim (which counts as a third attempt), depending on timing.
    const expired = failed.find((f) => f.clientId === r500.client.id) as unknown as {
      attempts: number;
    };
    expect(expired.attempts).toBeGreaterThanOrEqual(2);
    expect(expired.attempts).toBeLessThanOrEqual(3);
  });
});

it('a device approved in the session is told too (the device grant records it)', async () => {
  const user = await makeUser(server);
  const r = await receiver();
  const tv = await rp(server, r, { name: 'TV', grantTypes: [DEVICE_GRANT] });
  const started = await deviceAuthorization(server, tv, { scope: 'openid' });
  const { user_code, device_code } = started.body as { user_code: string; device_code: string };
  const browser = new HttpBrowser();
  await approveDevice(server, user_code, user.email, 'allow', browser);
  server.clock.advance(6); // the polling interval
  const polled = await pollDevice(server, tv, device_code);
  expect(polled.status).toBe(200);
  const idToken = polled.body.id_token as string;
  const sid = decodePayload(idToken).sid as string;
  expect((await signOut(server, browser, idToken)).status).toBe(200);
  const [token] = await r.received(1);
  expect(await verifyLogoutToken(server, token!, tv.client.id)).toMatchObject({
    sid,
    sub: user.id,
  });
});

describe('ending all of a user’s sessions', () => {
  it('POST /logout tells every client of every session, sub-only for password-grant logins', async () => {
    const user = await makeUser(server);
    const [ra, rb, rp1, rp2] = [
      await receiver(),
      await receiver(),
      await receiver(),
      await receiver(),
    ];
    const a = await rp(server, ra);
    const b = await rp(server, rb);
    const password = { grantTypes: ['password' as const, 'refresh_token' as const] };
    const pwd = await rp(server, rp1, password);
    // Needs sid, which a password-grant login never has: nothing can be sent to it.
    const pwdSid = await rp(server, rp2, { ...password, backchannelLogoutSessionRequired: true });
    const first = new HttpBrowser();
    const s1 = await signInTo(server, first, a, user);
    await signInTo(server, first, b, user);
    const s2 = await signInTo(server, new HttpBrowser(), a, user);
    await login(server, pwd, user);
    await login(server, pwdSid, user);

    const res = await fetch(`${server.url}/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s1.accessToken}` },
    });
    expect(res.status).toBe(200);

    const sids = [];
    for (const token of await ra.received(2))
      sids.push((await verifyLogoutToken(server, token, a.client.id)).sid);
    expect(sids.sort()).toEqual([s1.sid, s2.sid].sort());
    const [forB] = await rb.received(1);
    expect(await verifyLogoutToken(server, forB!, b.client.id)).toMatchObject({ sid: s1.sid });
    const [forPwd] = await rp1.received(1);
    const claims = await verifyLogoutToken(server, forPwd!, pwd.client.id);
    expect(claims.sub).toBe(user.id);
    expect(claims).not.toHaveProperty('sid');
    await drained(server);
    expect(rp2.tokens).toHaveLength(0);
    expect([ra, rb, rp1].map((r) => r.tokens.length)).toEqual([2, 1, 1]);
  });

  it('disabling the account tells its relying parties', async () => {
    const user = await makeUser(server);
    const r = await receiver();
    const fc = await rp(server, r);
    const { sid } = await signInTo(server, new HttpBrowser(), fc, user);
    await setUserDisabled(server.services, user.email, true);
    const [token] = await r.received(1);
    expect(await verifyLogoutToken(server, token!, fc.client.id)).toMatchObject({
      sub: user.id,
      sid,
    });
    await drained(server);
    expect(await auditDetails(server, 'logout.backchannel_delivered', user.id)).toEqual([
      expect.objectContaining({ reason: 'user_disabled' }),
    ]);
  });
});

describe('durability', () => {
  it('a server restarted before the relying party came back loses no logout token', async () => {
    const database = await createTestDatabase();
    let a: TestServer | undefined;
    let b: TestServer | undefined;
    try {
      a = await startTestServer({ env, database });
      const user = await makeUser(a);
      const down = await receiver({ down: true });
      const fc = await rp(a, down);
      const browser = new HttpBrowser();
      const { idToken, sid } = await signInTo(a, browser, fc, user);
      expect((await signOut(a, browser, idToken)).status).toBe(200);
      await attempted(a, 1);
      await a.stop();

      // A new process on the same database (same issuer, same key-encryption key).
      b = await startTestServer({
        env: { ...env, PORT: String(a.port), ISSUER: a.config.issuer },
        database,
      });
      await down.listen();
      b.clock.advance(RETRY_BASE);
      const [token] = await down.received(1);
      expect(await verifyLogoutToken(b, token!, fc.client.id)).toMatchObject({
        sub: user.id,
        sid,
      });
      await drained(b);
    } finally {
      await b?.stop();
      await database.drop();
    }
  });

  it('two instances on one database deliver each logout token once', async () => {
    const second = await startTestServer({ env, database: server.database });
    try {
      const user = await makeUser(server);
      const r = await receiver();
      const fc = await rp(server, r);
      const sessions = [];
      for (let i = 0; i < 6; i++)
        sessions.push(await signInTo(server, new HttpBrowser(), fc, user));
      // Queued on one instance (and not woken on the other); both look for due rows.
      const res = await fetch(`${server.url}/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sessions[0]!.accessToken}` },
      });
      expect(res.status).toBe(200);
      await r.received(6);
      await drained(server);
      await new Promise((done) => setTimeout(done, 300));
      const jtis = r.tokens.map((t) => decodePayload(t).jti);
      expect(new Set(jtis).size).toBe(6);
      expect(jtis).toHaveLength(6);
    } finally {
      await second.stop();
    }
  });
});

describe('registering a backchannel_logout_uri', () => {
  const doc = {
    client_name: 'RP',
    redirect_uris: ['https://rp.example/cb'],
    backchannel_logout_uri: 'https://rp.example/backchannel-logout',
    backchannel_logout_session_required: true,
  };

  it('https: registered, printed back, and cleared by an update that leaves it out', async () => {
    const { client } = await createClientFromMetadata(server.services, doc);
    expect(metadataOfClient(client)).toMatchObject({
      backchannel_logout_uri: 'https://rp.example/backchannel-logout',
      backchannel_logout_session_required: true,
    });
    const { backchannel_logout_uri: _u, backchannel_logout_session_required: _r, ...rest } = doc;
    const { client: updated } = await updateClient(server.services, client.id, rest);
    expect(updated).toMatchObject({
      backchannelLogoutUri: null,
      backchannelLogoutSessionRequired: false,
    });
  });

  it('plain http on loopback only with OUTBOUND_ALLOW_PRIVATE=true', async () => {
    const strict = await startTestServer();
    try {
      const local = { ...doc, backchannel_logout_uri: 'http://127.0.0.1:4000/bc' };
      await expect(createClientFromMetadata(strict.services, local)).rejects.toThrow(
        /backchannel_logout_uri http:\/\/127\.0\.0\.1:4000\/bc: plain http is allowed only with OUTBOUND_ALLOW_PRIVATE=true/,
      );
      // With it (the suite's server) the same document registers.
      expect((await createClientFromMetadata(server.services, local)).client).toMatchObject({
        backchannelLogoutUri: 'http://127.0.0.1:4000/bc',
      });
    } finally {
      await strict.stop();
    }
  });
});
