/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9) with DPOP_NONCE=true: a proof without the
 * current nonce gets use_dpop_nonce and the nonce in `DPoP-Nonce`; oauth4webapi retries with it
 * and succeeds, for client_credentials, the code flow, refresh and userinfo. Nonces are derived
 * (never stored), so a second instance on the same database accepts the first one's.
 */
import { randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { makeClient as makeFlowClient, makeUser } from '../../support/code-flow';
import { basic, makeClient, post, type Reply, type TestClient } from '../../support/fixtures';
import { makeProof, proofKey, type ProofKey } from '../../support/dpop';
import {
  authorize,
  clientCredentials,
  dpopClient,
  exchangeCode,
  refresh,
  userinfo,
  withNonceRetry,
} from '../../support/dpop-rp';
import { startTestServer, type TestServer } from '../../support/server';
import type { UserRecord } from '../../../src/accounts/user-storage';

const KEK = randomBytes(32).toString('base64');
const env = { DPOP_NONCE: 'true', DPOP_NONCE_WINDOW: '60', KEY_ENCRYPTION_KEY: KEK };

let a: TestServer;
let b: TestServer;
let service: TestClient;
let user: UserRecord;
let key: ProofKey;
beforeAll(async () => {
  a = await startTestServer({ env });
  // A second instance on the same database, with the same key-encryption key.
  b = await startTestServer({ env, database: a.database });
  service = await makeClient(a);
  user = await makeUser(a);
  key = await proofKey();
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

function clientCredentialsAt(s: TestServer, proof: string): Promise<Reply> {
  return post(
    s,
    '/token',
    { grant_type: 'client_credentials', scope: 'api:read' },
    { headers: { authorization: basic(service), dpop: proof } },
  );
}

/** A proof at `s`'s clock (the tests move it to cross nonce windows). */
function proofFor(s: TestServer, nonce?: string, path = '/token') {
  return makeProof(key, `${s.config.issuer}${path}`, {
    iat: s.clock.epochSeconds(),
    ...(nonce === undefined ? {} : { nonce }),
  });
}

it('a proof without a nonce: 400 use_dpop_nonce with DPoP-Nonce; with it: 200', async () => {
  const first = await clientCredentialsAt(a, await proofFor(a));
  expect(first.status).toBe(400);
  expect(first.body.error).toBe('use_dpop_nonce');
  const nonce = first.headers.get('dpop-nonce');
  expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const second = await clientCredentialsAt(a, await proofFor(a, nonce!));
  expect(second).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
});

it('a made-up nonce: use_dpop_nonce', async () => {
  const res = await clientCredentialsAt(
    a,
    await proofFor(a, randomBytes(32).toString('base64url')),
  );
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('use_dpop_nonce');
  expect(res.headers.get('dpop-nonce')).toBeTruthy();
});

it("another instance on the same database accepts the first one's nonce", async () => {
  const nonce = (await clientCredentialsAt(a, await proofFor(a))).headers.get('dpop-nonce')!;
  expect((await clientCredentialsAt(b, await proofFor(b, nonce))).status).toBe(200);
});

it('a client without DPoP is not asked for nonces (Bearer as before)', async () => {
  const res = await post(
    a,
    '/token',
    { grant_type: 'client_credentials', scope: 'api:read' },
    { headers: { authorization: basic(service) } },
  );
  expect(res).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
});

describe('relying-party libraries retry with the nonce and succeed', () => {
  it('openid-client v6 (DPoP option): client_credentials, retrying by itself', async () => {
    const config = await oidc.discovery(
      new URL(a.config.issuer),
      service.client.id,
      service.secret!,
      undefined,
      { execute: [oidc.allowInsecureRequests] },
    );
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api:read' }, { DPoP });
    expect(tokens.token_type).toBe('dpop');
  });

  it('oauth4webapi: client_credentials', async () => {
    const c = await dpopClient(a, service.client.id, service.secret);
    expect((await clientCredentials(c, 'api:read')).token_type).toBe('dpop');
  });

  it('oauth4webapi: code flow, refresh and userinfo of a public client', async () => {
    const pub = await makeFlowClient(a, { isPublic: true, firstParty: true });
    const c = await dpopClient(a, pub.client.id, null);
    const { callback, verifier } = await authorize(a, c, user.email);
    const tokens = await withNonceRetry(async () =>
      oauth.processAuthorizationCodeResponse(
        c.as,
        c.client,
        await exchangeCode(c, callback, verifier),
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    const refreshed = await refresh(c, tokens.refresh_token!);
    expect((await userinfo(c, refreshed.access_token)).sub).toBe(user.id);
  });
});

it('userinfo: a proof without the nonce is a 401 with a DPoP use_dpop_nonce challenge', async () => {
  const nonce = (await clientCredentialsAt(a, await proofFor(a))).headers.get('dpop-nonce')!;
  const login = await post(
    a,
    '/token',
    {
      grant_type: 'password',
      username: user.email,
      password: 'correct horse battery staple',
      scope: 'openid',
    },
    { headers: { authorization: basic(service), dpop: await proofFor(a, nonce) } },
  );
  const token = login.body.access_token as string;
  const res = await fetch(`${a.url}/userinfo`, {
    headers: {
      authorization: `DPoP ${token}`,
      dpop: await makeProof(key, `${a.config.issuer}/userinfo`, {
        htm: 'GET',
        iat: a.clock.epochSeconds(),
        accessToken: token,
      }),
    },
  });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^DPoP .*error="use_dpop_nonce"/);
  expect(res.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

// Last: it moves the server's clock.
it('a nonce lives one more window (then the next is handed out), and no longer', async () => {
  const nonce = (await clientCredentialsAt(a, await proofFor(a))).headers.get('dpop-nonce')!;
  a.clock.advance(60);
  const late = await clientCredentialsAt(a, await proofFor(a, nonce));
  expect(late.status).toBe(200);
  const next = late.headers.get('dpop-nonce');
  expect(next).toBeTruthy();
  expect(next).not.toBe(nonce);
  a.clock.advance(60);
  const stale = await clientCredentialsAt(a, await proofFor(a, nonce));
  expect(stale.body.error).toBe('use_dpop_nonce');
  expect((await clientCredentialsAt(a, await proofFor(a, next!))).status).toBe(200);
});
