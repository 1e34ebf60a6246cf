/**
 * Disabling a user (src/admin/users.ts, what `tessera users disable` runs) ends every session
 * of theirs for good: enabling them again later must not bring back a refresh token, an access
 * token or a browser (SSO) session from before.
 */
import { setUserDisabled } from '../../src/admin/users';
import { startTestServer, type TestServer } from '../support/server';
import {
  authorizeUrl,
  codeRequest,
  HttpBrowser,
  makeClient as makeFlowClient,
  pkcePair,
  readPage,
  signIn,
  type FlowClient,
} from '../support/code-flow';
import { introspect, login, newClient, newUser, refresh, type TestClient } from '../support/tokens';

let server: TestServer;
let app: TestClient;
let rp: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  app = await newClient(server);
  rp = await makeFlowClient(server, { firstParty: true });
});
afterAll(async () => {
  await server?.stop();
});

async function liveBrowserSessions(userId: string): Promise<number> {
  return server.services.db.prisma.browserSession.count({ where: { userId, endedAt: null } });
}

describe('setUserDisabled', () => {
  it('disable then enable: the old refresh and access tokens stay dead (invalid_grant, inactive)', async () => {
    const user = await newUser(server);
    const bystander = await newUser(server);
    const before = await login(server, app, user);
    const kept = await login(server, app, bystander);

    await setUserDisabled(server.services, user.email, true);
    await setUserDisabled(server.services, user.email, false);

    const res = await refresh(server, app, before.refresh_token!);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
    expect(await introspect(server, app, before.access_token)).toEqual({ active: false });
    expect(await introspect(server, app, before.refresh_token!)).toEqual({ active: false });
    // The account itself works again, and nobody else was signed out.
    expect((await login(server, app, user)).access_token).toEqual(expect.any(String));
    expect((await introspect(server, app, kept.refresh_token!)).active).toBe(true);
    const events = await server.services.audit.list({
      userId: user.id,
      type: 'user.sessions_revoked',
    });
    expect(events[0]?.details).toMatchObject({ reason: 'user_disabled', families: 1 });
  });

  it('disable then enable: the old browser session cookie no longer signs in (the login page again)', async () => {
    const user = await newUser(server);
    const browser = new HttpBrowser();
    const url = authorizeUrl(server, codeRequest(rp.client, pkcePair()));
    expect((await signIn(browser, server, url, user.email)).searchParams.get('code')).toEqual(
      expect.any(String),
    );
    // The SSO session signs in without a password while it lives.
    expect(await readPage(await browser.get(url))).toMatchObject({ kind: 'redirect' });
    expect(await liveBrowserSessions(user.id)).toBe(1);

    await setUserDisabled(server.services, user.email, true);
    expect(await liveBrowserSessions(user.id)).toBe(0);
    await setUserDisabled(server.services, user.email, false);

    expect(await readPage(await browser.get(url))).toMatchObject({ kind: 'login' });
    const silent = await readPage(
      await browser.get(
        authorizeUrl(server, codeRequest(rp.client, pkcePair(), { prompt: 'none' })),
      ),
    );
    expect(silent.kind === 'redirect' && silent.location.searchParams.get('error')).toBe(
      'login_required',
    );
    expect(await liveBrowserSessions(user.id)).toBe(0);
  });

  it('enabling touches no session; disabling an already disabled user ends nothing more', async () => {
    const user = await newUser(server);
    const t = await login(server, app, user);
    await setUserDisabled(server.services, user.email, false);
    expect((await introspect(server, app, t.refresh_token!)).active).toBe(true);
    await setUserDisabled(server.services, user.email, true);
    await setUserDisabled(server.services, user.email, true);
    const events = await server.services.audit.list({ userId: user.id, type: 'user.disabled' });
    expect(events.map((e) => e.details)).toEqual([
      { families: 0, browser_sessions: 0 },
      { families: 1, browser_sessions: 0 },
    ]);
  });
});
