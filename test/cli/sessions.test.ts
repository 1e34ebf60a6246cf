/**
 * `tessera users revoke-sessions` (runCli, in this process) against the same PostgreSQL
 * database as a running server, over its own connection. On PGlite the test database lives in
 * the server's memory with no URL to connect to, so the suite is skipped there.
 */
import { runCliInProcess } from '../support/cli';
import { serverUrl } from '../support/database';
import { startTestServer, type TestServer } from '../support/server';
import { introspect, login, newClient, newUser, refresh, type TestClient } from '../support/tokens';

const tessera = (args: string[], env: Record<string, string>) => runCliInProcess(args, env);

const onPostgres = Boolean(serverUrl());
const suite = onPostgres ? describe : describe.skip;

suite(
  `tessera users revoke-sessions${onPostgres ? '' : ' (skipped on PGlite: a child process cannot open the in-memory test database)'}`,
  () => {
    let server: TestServer;
    let app: TestClient;
    let other: TestClient;
    let env: Record<string, string>;

    beforeAll(async () => {
      server = await startTestServer();
      app = await newClient(server);
      other = await newClient(server);
      env = {
        DATABASE_URL: server.database.url!,
        KEY_ENCRYPTION_KEY: server.config.KEY_ENCRYPTION_KEY!,
        KEYS_DIR: server.config.KEYS_DIR,
        DATA_DIR: server.config.DATA_DIR,
      };
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('revokes every family of the user (all clients) and their access tokens; --json reports the count', async () => {
      const user = await newUser(server);
      const bystanderUser = await newUser(server);
      const a = await login(server, app, user);
      const b = await login(server, other, user);
      const bystander = await login(server, app, bystanderUser);

      const run = await tessera(
        ['users', 'revoke-sessions', '--email', user.email.toUpperCase(), '--json'],
        env,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        user_id: user.id,
        email: user.email,
        sessions_ended: 2,
      });

      for (const [c, t] of [
        [app, a],
        [other, b],
      ] as const) {
        expect(await introspect(server, c, t.access_token)).toEqual({ active: false });
        expect(await introspect(server, c, t.refresh_token!)).toEqual({ active: false });
        expect((await (await refresh(server, c, t.refresh_token!)).json()).error).toBe(
          'invalid_grant',
        );
      }
      expect((await introspect(server, app, bystander.access_token)).active).toBe(true);
      const events = await server.services.audit.list({
        userId: user.id,
        type: 'user.sessions_revoked',
      });
      expect(events[0]?.details).toEqual({ reason: 'operator', families: 2 });

      // A second run finds nothing left to end; the text form says so.
      const again = await tessera(['users', 'revoke-sessions', '--email', user.email], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(`ended 0 sessions of ${user.email}\n`);
    });

    it('an unknown email exits 1 with a message and no stdout', async () => {
      const run = await tessera(
        ['users', 'revoke-sessions', '--email', 'nobody@example.com', '--json'],
        env,
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/no user with email nobody@example.com/);
    });

    it('a missing --email is a usage error (exit 2)', async () => {
      const run = await tessera(['users', 'revoke-sessions'], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--email is required/);
    });
  },
);
