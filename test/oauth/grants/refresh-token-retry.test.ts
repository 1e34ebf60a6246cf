/**
 * The refresh grant's retry window: a rotated token presented again inside
 * REFRESH_REUSE_GRACE_SECONDS gets the same successor back (the chain stays one chain), the
 * database alone cannot produce it, and outside the window reuse detection is unchanged.
 */
import { connect } from 'node:net';
import { purgeOnce } from '../../../src/observability/purge';
import { sha256 } from '../../../src/shared/crypto';
import { openSuccessor } from '../../../src/tokens/retry-seal';
import { startTestServer, type TestServer } from '../../support/server';
import {
  basic,
  decodeJwt,
  makeClient,
  makeUser,
  passwordLogin,
  post,
  token,
  type Reply,
  type TestClient,
} from '../../support/fixtures';

let server: TestServer;
let app: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  app = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

const SCOPE = 'openid profile offline_access api:read';

async function login(): Promise<{ refresh: string; access: string; userId: string }> {
  const user = await makeUser(server);
  const res = await passwordLogin(server, app, user, { scope: SCOPE });
  expect(res.status).toBe(200);
  return {
    refresh: res.body.refresh_token as string,
    access: res.body.access_token as string,
    userId: user.id,
  };
}

const refresh = (rt: string, c: TestClient = app): Promise<Reply> =>
  token(server, c, { grant_type: 'refresh_token', refresh_token: rt });
const prisma = () => server.services.db.prisma;
const jtiOf = (jwt: string) => decodeJwt(jwt).payload.jti as string;

async function tokenRow(rt: string) {
  return prisma().refreshToken.findUniqueOrThrow({ where: { tokenHash: sha256(rt) } });
}

async function childrenOf(rt: string) {
  const row = await tokenRow(rt);
  return prisma().refreshToken.findMany({ where: { parentId: row.id } });
}

async function introspect(tokenValue: string): Promise<boolean> {
  const res = await post(
    server,
    '/introspect',
    { token: tokenValue },
    { headers: { authorization: basic(app) } },
  );
  expect(res.status).toBe(200);
  return res.body.active as boolean;
}

describe('refresh retry window', () => {
  it('a retry gets the same successor, a fresh access token with its own jti and a fresh ID token', async () => {
    const { refresh: rt1 } = await login();
    const first = await refresh(rt1);
    expect(first.status).toBe(200);
    server.clock.advance(server.config.REFRESH_REUSE_GRACE_SECONDS - 1);
    const retry = await refresh(rt1);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(first.body.refresh_token);
    expect(retry.body.scope).toBe(SCOPE);
    expect(jtiOf(retry.body.access_token as string)).not.toBe(
      jtiOf(first.body.access_token as string),
    );
    expect(retry.body.id_token).toEqual(expect.any(String));
    // One chain: the rotated token has exactly one successor, and both access tokens are live
    // (the first may have been delivered).
    expect(await childrenOf(rt1)).toHaveLength(1);
    expect(await introspect(first.body.access_token as string)).toBe(true);
    expect(await introspect(retry.body.access_token as string)).toBe(true);
    const next = await refresh(first.body.refresh_token as string);
    expect(next.status).toBe(200);
  });

  it('stores no successor in the clear: the seal opens only with the rotated token', async () => {
    const { refresh: rt1 } = await login();
    const first = await refresh(rt1);
    const rt2 = first.body.refresh_token as string;
    const row = await tokenRow(rt1);
    const seal = await prisma().refreshRetrySeal.findUniqueOrThrow({ where: { tokenId: row.id } });
    const sealed = Buffer.from(seal.sealed);
    expect(sealed.includes(Buffer.from(rt2))).toBe(false);
    expect(openSuccessor(rt1, row.tokenHash, seal.successorId, sealed)).toBe(rt2);
    // What a database dump holds (the hash) does not open it; nor does a seal moved elsewhere.
    expect(openSuccessor(row.tokenHash, row.tokenHash, seal.successorId, sealed)).toBeNull();
    expect(openSuccessor(rt1, row.tokenHash, row.id, sealed)).toBeNull();
  });

  it("a successor that has moved on ends its predecessor's window at once: invalid_grant, family kept", async () => {
    const { refresh: rt1 } = await login();
    const rt2 = (await refresh(rt1)).body.refresh_token as string;
    const rt3 = (await refresh(rt2)).body.refresh_token as string;
    const rt1Row = await tokenRow(rt1);
    expect(
      await prisma().refreshRetrySeal.findUnique({ where: { tokenId: rt1Row.id } }),
    ).toBeNull();
    const late = await refresh(rt1);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('invalid_grant');
    expect(
      (await prisma().refreshTokenFamily.findUniqueOrThrow({ where: { id: rt1Row.familyId } }))
        .revokedAt,
    ).toBeNull();
    expect((await refresh(rt3)).status).toBe(200);
  });

  it('outside the window a replay revokes the family and every access token, the retried ones too', async () => {
    const { refresh: rt1, userId } = await login();
    const first = await refresh(rt1);
    const retry = await refresh(rt1);
    expect(retry.status).toBe(200);
    server.clock.advance(server.config.REFRESH_REUSE_GRACE_SECONDS + 1);
    const replay = await refresh(rt1);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(first.body.refresh_token as string)).body.error).toBe('invalid_grant');
    for (const at of [first.body.access_token, retry.body.access_token] as string[]) {
      expect(
        await prisma().revokedAccessToken.findUnique({ where: { jti: jtiOf(at) } }),
      ).not.toBeNull();
      expect(await introspect(at)).toBe(false);
    }
    expect(
      await server.services.audit.list({ userId, type: 'refresh_token.reuse_detected' }),
    ).toHaveLength(1);
    expect(
      await prisma().refreshRetrySeal.count({ where: { tokenId: (await tokenRow(rt1)).id } }),
    ).toBe(0);
  });

  it('a second holder inside the window continues the same chain; the first divergence after it is reuse', async () => {
    const { refresh: rt1 } = await login();
    const client = await refresh(rt1);
    const thief = await refresh(rt1);
    expect(thief.body.refresh_token).toBe(client.body.refresh_token);
    // The client moves on; later the thief presents the token the client already rotated.
    const moved = await refresh(client.body.refresh_token as string);
    expect(moved.status).toBe(200);
    server.clock.advance(server.config.REFRESH_REUSE_GRACE_SECONDS + 1);
    expect((await refresh(thief.body.refresh_token as string)).body.error).toBe('invalid_grant');
    expect((await refresh(moved.body.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it.each([
    ['another client', async (rt: string) => (await refresh(rt, await makeClient(server))).body],
    [
      'a revoked family',
      async (rt: string) => {
        await server.services.refreshTokens.revokeFamily(
          (await tokenRow(rt)).familyId,
          'test',
          server.clock.now(),
        );
        return (await refresh(rt)).body;
      },
    ],
    [
      'a disabled user',
      async (rt: string) => {
        const family = await prisma().refreshTokenFamily.findUniqueOrThrow({
          where: { id: (await tokenRow(rt)).familyId },
        });
        await server.services.users.setDisabled(family.userId, true, server.clock.now());
        return (await refresh(rt)).body;
      },
    ],
  ])('inside the window, %s gets invalid_grant and no successor', async (_name, retryAs) => {
    const { refresh: rt1 } = await login();
    expect((await refresh(rt1)).status).toBe(200);
    const body = await retryAs(rt1);
    expect(body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
  });

  it('50 parallel uses of one token: each a 200 with the one successor or a clean invalid_grant', async () => {
    const { refresh: rt } = await login();
    const replies = await Promise.all(Array.from({ length: 50 }, () => refresh(rt)));
    const successors = new Set(
      replies.filter((r) => r.status === 200).map((r) => r.body.refresh_token),
    );
    expect(successors.size).toBe(1);
    for (const r of replies.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    }
    const jtis = new Set(
      replies.filter((r) => r.status === 200).map((r) => jtiOf(r.body.access_token as string)),
    );
    expect(jtis.size).toBe(replies.filter((r) => r.status === 200).length);
    expect(await childrenOf(rt)).toHaveLength(1);
    expect(
      (
        await prisma().refreshTokenFamily.findUniqueOrThrow({
          where: { id: (await tokenRow(rt)).familyId },
        })
      ).revokedAt,
    ).toBeNull();
    expect((await refresh([...successors][0] as string)).status).toBe(200);
  });

  it('a client that drops the connection before reading the answer gets the same successor on retry', async () => {
    const { refresh: rt1 } = await login();
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: rt1,
    }).toString();
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write(
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${basic(app)}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Wait until the rotation has committed, then leave without reading a byte.
    for (let i = 0; i < 200 && (await tokenRow(rt1)).rotatedAt === null; i++)
      await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    const [lost] = await childrenOf(rt1);
    expect(lost).toBeDefined();
    const retry = await refresh(rt1);
    expect(retry.status).toBe(200);
    expect(sha256(retry.body.refresh_token as string)).toBe(lost!.tokenHash);
    expect((await refresh(retry.body.refresh_token as string)).status).toBe(200);
  });

  it('the purge destroys seals once the window has passed, and retry access tokens once expired', async () => {
    const { refresh: rt1 } = await login();
    await refresh(rt1);
    await refresh(rt1);
    const row = await tokenRow(rt1);
    expect(await prisma().refreshRetrySeal.count({ where: { tokenId: row.id } })).toBe(1);
    expect(
      await prisma().refreshRetryAccessToken.count({ where: { familyId: row.familyId } }),
    ).toBe(1);
    await purgeOnce(server.services);
    expect(await prisma().refreshRetrySeal.count({ where: { tokenId: row.id } })).toBe(1);
    server.clock.advance(server.config.REFRESH_REUSE_GRACE_SECONDS + 1);
    await purgeOnce(server.services);
    expect(await prisma().refreshRetrySeal.count({ where: { tokenId: row.id } })).toBe(0);
    server.clock.advance(server.config.ACCESS_TOKEN_TTL);
    await purgeOnce(server.services);
    expect(
      await prisma().refreshRetryAccessToken.count({ where: { familyId: row.familyId } }),
    ).toBe(0);
  });
});
