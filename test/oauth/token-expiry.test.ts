/**
 * At the issuer an access token dies at its `exp`, with no clock tolerance (RFC 7662 §2.2:
 * `active` means not expired; RFC 7519 §4.1.4): introspection, userinfo, revocation and the
 * deny-list all read Tessera's own clock. CLOCK_SKEW is tolerance for other parties' clocks
 * (an `iat` or `nbf` slightly in the future), never an extension of `exp`.
 */
import type { UserRecord } from '../../src/accounts/user-storage';
import { purgeOnce } from '../../src/observability/purge';
import { accessTokenDeniedUntil } from '../../src/tokens/access-token-expiry';
import { startTestServer, type TestServer } from '../support/server';
import {
  accessClaims,
  decodePayload,
  introspect,
  login,
  newClient,
  newUser,
  postForm,
  revoke,
  signWithServerKey,
  type TestClient,
} from '../support/tokens';

let server: TestServer;
let app: TestClient;
let resourceServer: TestClient;
let user: UserRecord;

beforeAll(async () => {
  server = await startTestServer({ env: { CLOCK_SKEW: '30', ACCESS_TOKEN_TTL: '300' } });
  app = await newClient(server);
  resourceServer = await newClient(server, {
    firstParty: false,
    grantTypes: ['client_credentials'],
    scopes: ['api'],
  });
  user = await newUser(server);
});
afterAll(async () => {
  await server?.stop();
});

const userinfo = (token: string) =>
  fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } });

/** Moves the server's clock to `offset` seconds after the token's `exp` (by its own reading). */
function moveClockPastExp(token: string, offset: number): void {
  const exp = decodePayload(token).exp as number;
  server.clock.advance(exp + offset - server.clock.now().getTime() / 1000);
}

async function freshLogin() {
  return login(server, app, user, 'openid profile email offline_access');
}

describe('an access token past its exp, within CLOCK_SKEW', () => {
  it.each<[string, number]>([
    ['at exp', 0],
    ['1 s after exp', 1],
    ['CLOCK_SKEW - 1 s after exp', 29],
  ])(
    '%s: introspection says inactive and userinfo answers 401 invalid_token',
    async (_name, offset) => {
      const t = await freshLogin();
      expect((await introspect(server, resourceServer, t.access_token)).active).toBe(true);
      moveClockPastExp(t.access_token, offset);
      expect(await introspect(server, resourceServer, t.access_token)).toEqual({ active: false });
      const res = await userinfo(t.access_token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await res.json()).error).toBe('invalid_token');
    },
  );

  it('one second before exp it is still active', async () => {
    const t = await freshLogin();
    moveClockPastExp(t.access_token, -1);
    expect((await introspect(server, resourceServer, t.access_token)).active).toBe(true);
    expect((await userinfo(t.access_token)).status).toBe(200);
  });

  it("an iat or nbf up to CLOCK_SKEW in the future is still accepted (another party's clock)", async () => {
    const now = server.clock.epochSeconds();
    const token = await signWithServerKey(
      server,
      accessClaims(server, app, user, { iat: now + 20, nbf: now + 20, exp: now + 300 }),
    );
    expect((await introspect(server, resourceServer, token)).active).toBe(true);
  });

  it('revoking an expired token writes nothing to the deny-list', async () => {
    const t = await freshLogin();
    moveClockPastExp(t.access_token, 1);
    expect((await revoke(server, app, t.access_token)).status).toBe(200);
    const jti = decodePayload(t.access_token).jti as string;
    expect(
      await server.services.db.prisma.revokedAccessToken.findUnique({ where: { jti } }),
    ).toBeNull();
  });
});

describe('the deny-list and the verifier agree on until when a jti is denied', () => {
  type Path =
    'family (/revoke refresh_token)' | 'single (/revoke access_token)' | 'logout (/logout)';
  const revokeBy: Record<Path, (t: Awaited<ReturnType<typeof freshLogin>>) => Promise<Response>> = {
    'family (/revoke refresh_token)': (t) => revoke(server, app, t.refresh_token!),
    'single (/revoke access_token)': (t) => revoke(server, app, t.access_token),
    'logout (/logout)': (t) =>
      postForm(server, '/logout', {}, { authorization: `Bearer ${t.access_token}` }),
  };

  it.each(Object.keys(revokeBy) as Path[])(
    '%s: the row lasts until accessTokenDeniedUntil(exp)',
    async (path) => {
      const t = await freshLogin();
      expect((await revokeBy[path](t)).status).toBe(200);
      const { jti, exp } = decodePayload(t.access_token) as { jti: string; exp: number };
      const row = await server.services.db.prisma.revokedAccessToken.findUnique({ where: { jti } });
      expect(row!.expiresAt.getTime()).toBe(accessTokenDeniedUntil(exp).getTime());
    },
  );

  it.each<[string, number]>([
    ['1 s before exp', -1],
    ['1 s after exp', 1],
    ['CLOCK_SKEW - 1 s after exp', 29],
  ])('revoked through its family, %s, after a purge: still inactive', async (_name, offset) => {
    const t = await freshLogin();
    expect((await revoke(server, app, t.refresh_token!)).status).toBe(200);
    moveClockPastExp(t.access_token, offset);
    await purgeOnce(server.services);
    expect(await introspect(server, resourceServer, t.access_token)).toEqual({ active: false });
    expect((await userinfo(t.access_token)).status).toBe(401);
  });
});
