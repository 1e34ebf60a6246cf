import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../../support/server';
import {
  authorizeUrl,
  codeRequest,
  exchangeCode,
  HttpBrowser,
  makeClient,
  makeUser,
  OTHER_REDIRECT,
  pkcePair,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;
let other: FlowClient;
let pub: FlowClient;
let noRefresh: FlowClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server, { firstParty: true });
  other = await makeClient(server, { firstParty: true });
  pub = await makeClient(server, { firstParty: true, isPublic: true });
  noRefresh = await makeClient(server, { firstParty: true, grantTypes: ['authorization_code'] });
});
afterAll(async () => {
  await server?.stop();
});

/** A fresh code for `fc` (signed in through the pages), with its PKCE verifier. */
async function newCode(
  fc: FlowClient,
  extra: Record<string, string | undefined> = {},
): Promise<{ code: string; verifier: string; challenge: string }> {
  const pkce = pkcePair();
  const location = await signIn(
    new HttpBrowser(),
    server,
    authorizeUrl(server, codeRequest(fc.client, pkce, extra)),
    user.email,
  );
  return { code: location.searchParams.get('code')!, ...pkce };
}

async function refresh(fc: FlowClient, refreshToken: string): Promise<number> {
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${fc.client.id}:${fc.secret}`).toString('base64')}`,
  };
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }).toString(),
  });
  return res.status;
}

async function introspectActive(fc: FlowClient, token: string): Promise<boolean> {
  const res = await fetch(`${server.url}/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${fc.client.id}:${fc.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { active: boolean }).active;
}

async function userinfoStatus(token: string): Promise<number> {
  return (await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${token}` } }))
    .status;
}

describe('grant_type=authorization_code', () => {
  it('a public client redeems with client_id and its verifier', async () => {
    const { code, verifier } = await newCode(pub);
    const res = await exchangeCode(server, pub, { code, code_verifier: verifier });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.id_token as string)).toMatchObject({
      aud: pub.client.id,
      sub: user.id,
      nonce: 'n-456',
    });
  });

  type Issued = { code: string; verifier: string; challenge: string };
  it.each<[string, string, (c: Issued) => Record<string, string | undefined>]>([
    ['no code_verifier', 'invalid_grant', () => ({ code_verifier: undefined })],
    ['a wrong code_verifier', 'invalid_grant', () => ({ code_verifier: pkcePair().verifier })],
    ['a malformed code_verifier', 'invalid_grant', () => ({ code_verifier: 'short' })],
    ['the challenge itself as verifier', 'invalid_grant', (c) => ({ code_verifier: c.challenge })],
    [
      'another registered redirect_uri',
      'invalid_grant',
      (c) => ({ code_verifier: c.verifier, redirect_uri: OTHER_REDIRECT }),
    ],
    [
      'no redirect_uri',
      'invalid_request',
      (c) => ({ code_verifier: c.verifier, redirect_uri: undefined }),
    ],
    [
      'an unknown code',
      'invalid_grant',
      (c) => ({ code_verifier: c.verifier, code: 'not-a-code' }),
    ],
  ])('%s → 400 %s, and the code stays usable', async (_name, error, tamper) => {
    const issued = await newCode(rp);
    const res = await exchangeCode(server, rp, { code: issued.code, ...tamper(issued) });
    expect(res).toMatchObject({ status: 400, body: { error } });
    // Validation failures do not consume the code: the legitimate client can still redeem it.
    expect(
      (await exchangeCode(server, rp, { code: issued.code, code_verifier: issued.verifier }))
        .status,
    ).toBe(200);
  });

  it('a verifier for a code issued without a challenge is refused (PKCE downgrade)', async () => {
    const { code } = await newCode(rp, {
      code_challenge: undefined,
      code_challenge_method: undefined,
    });
    const res = await exchangeCode(server, rp, { code, code_verifier: pkcePair().verifier });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('a code of another client → invalid_grant', async () => {
    const { code, verifier } = await newCode(other);
    const res = await exchangeCode(server, rp, { code, code_verifier: verifier });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('an expired code → invalid_grant (AUTHORIZATION_CODE_TTL)', async () => {
    const { code, verifier } = await newCode(rp);
    server.clock.advance(server.config.AUTHORIZATION_CODE_TTL + 1);
    const res = await exchangeCode(server, rp, { code, code_verifier: verifier });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('a reused code → invalid_grant, and the tokens issued from it are revoked', async () => {
    const { code, verifier } = await newCode(rp);
    const first = await exchangeCode(server, rp, { code, code_verifier: verifier });
    expect(first.status).toBe(200);
    const second = await exchangeCode(server, rp, { code, code_verifier: verifier });
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await refresh(rp, first.body.refresh_token as string)).toBe(400);
    const introspection = await fetch(`${server.url}/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${rp.client.id}:${rp.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: first.body.access_token as string }).toString(),
    });
    expect(introspection.status).toBe(200);
    expect((await introspection.json()).active).toBe(false);
  });

  it('a reused code of a client without refresh tokens → invalid_grant, and its access token is revoked (RFC 6749 §4.1.2)', async () => {
    const { code, verifier } = await newCode(noRefresh, { scope: 'openid profile' });
    const first = await exchangeCode(server, noRefresh, { code, code_verifier: verifier });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).toBeUndefined();
    const accessToken = first.body.access_token as string;
    expect(await introspectActive(noRefresh, accessToken)).toBe(true);
    expect(await userinfoStatus(accessToken)).toBe(200);

    const second = await exchangeCode(server, noRefresh, { code, code_verifier: verifier });
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await introspectActive(noRefresh, accessToken)).toBe(false);
    expect(await userinfoStatus(accessToken)).toBe(401);
  });

  it("concurrent redemptions without refresh tokens: the replays revoke the winner's access token", async () => {
    const { code, verifier } = await newCode(noRefresh, { scope: 'openid profile' });
    const results = await Promise.all(
      [0, 1, 2].map(() => exchangeCode(server, noRefresh, { code, code_verifier: verifier })),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(
      results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant'),
    ).toHaveLength(results.length - ok.length);
    for (const r of ok)
      expect(await introspectActive(noRefresh, r.body.access_token as string)).toBe(false);
  });

  it('concurrent redemptions: at most one gets tokens, and the replays revoke them', async () => {
    const { code, verifier } = await newCode(rp);
    const results = await Promise.all(
      [0, 1, 2].map(() => exchangeCode(server, rp, { code, code_verifier: verifier })),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(
      results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant'),
    ).toHaveLength(results.length - ok.length);
    // Whether the winner finished before the replays or not, its refresh token ends up revoked.
    for (const r of ok) expect(await refresh(rp, r.body.refresh_token as string)).toBe(400);
  });

  it('auth_time in the ID token is the login time, not the exchange time', async () => {
    const { code, verifier } = await newCode(rp);
    server.clock.advance(5);
    const res = await exchangeCode(server, rp, { code, code_verifier: verifier });
    const id = decodeJwt(res.body.id_token as string);
    expect(id.auth_time).toBeLessThanOrEqual((id.iat as number) - 4);
  });
});
