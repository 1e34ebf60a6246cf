/**
 * Many correct logins of one account at once, from one IP (a user's several tabs, a test
 * rig, a retrying app): the attempt counters of the account and the IP are locked by every
 * login's two statements, and must always be locked in the same order, so that concurrent
 * logins never deadlock (a deadlock would surface as a 500). With limits above the burst, every
 * login succeeds.
 */
import { describeOnPostgres } from '../support/database';
import { makeClient, makeUser, passwordLogin, type TestClient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

describeOnPostgres('concurrent logins of one account')('concurrent logins of one account', () => {
  let server: TestServer;
  let app: TestClient;
  beforeAll(async () => {
    server = await startTestServer({
      env: { TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: '50', IP_MAX_FAILURES: '100' },
    });
    app = await makeClient(server);
  });
  afterAll(() => server?.stop());

  it('never deadlock: 8 at a time, 400 in all, every one succeeds', async () => {
    const user = await makeUser(server);
    const statuses: number[] = [];
    const worker = async () => {
      for (let i = 0; i < 50; i++)
        statuses.push((await passwordLogin(server, app, user, {}, { ip: '203.0.113.7' })).status);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const counts = statuses.reduce<Record<number, number>>(
      (acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }),
      {},
    );
    expect(counts).toEqual({ 200: 400 });
  });
});
