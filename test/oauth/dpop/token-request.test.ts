/**
 * DPoP at the token endpoint (RFC 9449 §5): oauth4webapi, with its own proofs, gets
 * sender-constrained tokens from client_credentials, the code flow (dpop_jkt, §10) and
 * refresh; a public client's refresh tokens are bound to its key, a confidential client's are
 * not. Every refused proof gets invalid_dpop_proof, every grant bound to another key
 * invalid_grant, and neither issues anything or spends the grant.
 */
import * as oauth from 'oauth4webapi';
import { makeClient as makeFlowClient, makeUser } from '../../support/code-flow';
import { makeClient, passwordLogin, post, token, type TestClient } from '../../support/fixtures';
import {
  hmacProof,
  makeProof,
  payloadOf,
  proofKey,
  unsignedProof,
  type ProofKey,
} from '../../support/dpop';
import {
  authorize,
  clientCredentials,
  dpopClient,
  exchangeCode,
  refresh,
  type DpopClient,
} from '../../support/dpop-rp';
import { introspect } from '../../support/tokens';
import { useTestServer } from '../../support/server';
import type { UserRecord } from '../../../src/accounts/user-storage';

const server = useTestServer();
const tokenUrl = () => `${server().config.issuer}/token`;

let service: TestClient;
let user: UserRecord;
let key: ProofKey;
beforeAll(async () => {
  service = await makeClient(server());
  user = await makeUser(server());
  key = await proofKey();
});

/** client_credentials with `proof` (or several) in the DPoP header. */
function withProof(c: TestClient, proof: string | string[], params = {}) {
  const res = fetch(tokenUrl(), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.client.id}:${c.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: Array.isArray(proof) ? proof.join(', ') : proof,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', ...params }),
  });
  return res.then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  }));
}

describe('with oauth4webapi (its own proofs)', () => {
  it('client_credentials: a DPoP token bound to the key (cnf.jkt), introspected as DPoP', async () => {
    const c = await dpopClient(server(), service.client.id, service.secret);
    const tokens = await clientCredentials(c, 'api:read');
    expect(tokens.token_type).toBe('dpop');
    const jkt = await c.dpop.calculateThumbprint();
    expect(payloadOf(tokens.access_token).cnf).toEqual({ jkt });
    // RFC 9449 §6.2: introspection tells a resource server the binding.
    expect(await introspect(server(), service, tokens.access_token)).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt },
    });
  });

  it('a public client: code bound by dpop_jkt, refresh tokens bound to the key and rotated', async () => {
    const pub = await makeFlowClient(server(), { isPublic: true, firstParty: true });
    const c = await dpopClient(server(), pub.client.id, null);
    const { callback, verifier } = await authorize(server(), c, user.email);
    const tokens = await oauth.processAuthorizationCodeResponse(
      c.as,
      c.client,
      await exchangeCode(c, callback, verifier),
      { requireIdToken: true },
    );
    const jkt = await c.dpop.calculateThumbprint();
    expect(tokens.token_type).toBe('dpop');
    expect(payloadOf(tokens.access_token).cnf).toEqual({ jkt });
    const refreshed = await refresh(c, tokens.refresh_token!);
    expect(refreshed.token_type).toBe('dpop');
    expect(payloadOf(refreshed.access_token).cnf).toEqual({ jkt });
    // Rotation is unchanged for bound families: a new token, the old one retired.
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const again = await refresh(c, refreshed.refresh_token!);
    expect(payloadOf(again.access_token).cnf).toEqual({ jkt });
  });

  it('a confidential client: its refresh tokens stay unbound, its new access tokens follow the proof', async () => {
    const c = await dpopClient(server(), service.client.id, service.secret);
    const login = await passwordLogin(server(), service, user);
    expect(login.body.token_type).toBe('Bearer');
    const bound = await refresh(c, login.body.refresh_token as string);
    expect(bound.token_type).toBe('dpop');
    expect(payloadOf(bound.access_token).cnf).toEqual({ jkt: await c.dpop.calculateThumbprint() });
    // RFC 9449 §5: not bound to the key, so a refresh without a proof still works (as Bearer).
    const plain = await token(server(), service, {
      grant_type: 'refresh_token',
      refresh_token: bound.refresh_token!,
    });
    expect(plain.status).toBe(200);
    expect(plain.body.token_type).toBe('Bearer');
    expect(payloadOf(plain.body.access_token as string).cnf).toBeUndefined();
  });
});

describe('refused proofs: 400 invalid_dpop_proof, nothing issued', () => {
  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    ['a proof for another URL (htu)', () => makeProof(key, `${server().config.issuer}/refresh`)],
    ['a proof for another method (htm)', () => makeProof(key, tokenUrl(), { htm: 'GET' })],
    ['a stale iat', () => makeProof(key, tokenUrl(), { iat: now() - 120 })],
    ['a private key in jwk', () => makeProof(key, tokenUrl(), { header: { jwk: key.privateJwk } })],
    ['alg none', async () => unsignedProof(key, tokenUrl())],
    ['alg HS256', () => hmacProof(tokenUrl())],
    ['typ jwt', () => makeProof(key, tokenUrl(), { header: { typ: 'jwt' } })],
  ])('%s', async (_name, make) => {
    const res = await withProof(service, await make());
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
    expect(res.body.access_token).toBeUndefined();
  });

  it('two DPoP headers', async () => {
    const res = await withProof(service, [
      await makeProof(key, tokenUrl()),
      await makeProof(key, tokenUrl()),
    ]);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
  });

  it('a replayed proof (same jti): the first use only', async () => {
    const proof = await makeProof(key, tokenUrl());
    expect((await withProof(service, proof)).status).toBe(200);
    const replay = await withProof(service, proof);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringMatching(/already been used/),
    });
  });

  it('a client registered with dpop_bound_access_tokens gets no token without a proof', async () => {
    const bound = await makeClient(server(), { dpopBoundAccessTokens: true });
    const res = await token(server(), bound, {
      grant_type: 'client_credentials',
      scope: 'api:read',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
    const ok = await withProof(bound, await makeProof(key, tokenUrl()));
    expect(ok).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
  });
});

describe('grants bound to a key: invalid_grant without a proof by it, and the grant survives', () => {
  let pub: TestClient;
  let owner: DpopClient;
  beforeAll(async () => {
    pub = await makeFlowClient(server(), { isPublic: true, firstParty: true });
    owner = await dpopClient(server(), pub.client.id, null);
  });

  async function refreshAs(refreshToken: string, proof?: string) {
    return post(
      server(),
      '/token',
      { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: pub.client.id },
      proof === undefined ? {} : { headers: { dpop: proof } },
    );
  }

  it('a bound refresh token without a proof, or with another key, is refused; the family lives', async () => {
    const { callback, verifier } = await authorize(server(), owner, user.email);
    const tokens = await oauth.processAuthorizationCodeResponse(
      owner.as,
      owner.client,
      await exchangeCode(owner, callback, verifier),
    );
    const rt = tokens.refresh_token!;
    const noProof = await refreshAs(rt);
    expect(noProof).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const stranger = await proofKey();
    const otherKey = await refreshAs(rt, await makeProof(stranger, tokenUrl()));
    expect(otherKey).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Neither was reuse: the owner's key still refreshes.
    const owners = await refresh(owner, rt);
    expect(owners.token_type).toBe('dpop');
  });

  it('a code requested with dpop_jkt, redeemed with another key or none, is refused and not spent', async () => {
    const { callback, verifier } = await authorize(server(), owner, user.email);
    const thief = await dpopClient(server(), pub.client.id, null);
    const stolen = await exchangeCode(thief, callback, verifier);
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
    const bare = await post(server(), '/token', {
      grant_type: 'authorization_code',
      code: callback.get('code')!,
      redirect_uri: 'https://rp.example/cb',
      code_verifier: verifier,
      client_id: pub.client.id,
    });
    expect(bare).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const res = await exchangeCode(owner, callback, verifier);
    expect(res.status).toBe(200);
  });

  it('dpop_jkt that is no thumbprint is refused at /authorize', async () => {
    const res = await fetch(
      `${server().config.issuer}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: pub.client.id,
        redirect_uri: 'https://rp.example/cb',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        dpop_jkt: 'not-a-thumbprint',
      })}`,
      { redirect: 'manual' },
    );
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/dpop_jkt/);
  });
});

it('discovery advertises the proof algorithms (RFC 9449 §5.1)', async () => {
  const meta = (await (
    await fetch(`${server().url}/.well-known/openid-configuration`)
  ).json()) as Record<string, unknown>;
  expect(meta.dpop_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
});
