/**
 * `tessera/resource-server` and DPoP-bound tokens (RFC 9449 §7): the example API, with tokens
 * from a live Tessera, accepts a bound token only with the DPoP scheme and a proof by its key
 * for the request (htm, htu, ath, single use); a bound token sent as Bearer is refused with a
 * `WWW-Authenticate: DPoP` challenge; bearer tokens work exactly as before. With its own
 * nonces (§9) it asks for one, and oauth4webapi retries with it.
 */
import { randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { DpopNonces } from '../../src/resource-server';
import { makeClient, post, basic, type TestClient } from '../support/fixtures';
import { makeProof, proofKey, type ProofKey } from '../support/dpop';
import { clientCredentials, dpopClient, insecure, withNonceRetry } from '../support/dpop-rp';
import { AUDIENCE, startApi, type RunningApi } from '../support/resource-server';
import { useTestServer } from '../support/server';

const server = useTestServer();

let service: TestClient;
let key: ProofKey;
let api: RunningApi;
let bound: string;
let bearer: string;
beforeAll(async () => {
  service = await makeClient(server(), { audiences: [AUDIENCE], scopes: ['api'] });
  key = await proofKey();
  api = await startApi(server());
  const issued = (proof?: string) =>
    post(
      server(),
      '/token',
      { grant_type: 'client_credentials', scope: 'api' },
      { headers: { authorization: basic(service), ...(proof ? { dpop: proof } : {}) } },
    );
  bound = (await issued(await makeProof(key, `${server().config.issuer}/token`))).body
    .access_token as string;
  bearer = (await issued()).body.access_token as string;
});
afterAll(async () => {
  await api?.close();
});

function items(target: RunningApi, headers: Record<string, string>): Promise<Response> {
  return fetch(`${target.url}/items`, { headers });
}

const proofFor = (target: RunningApi, o: { token?: string; key?: ProofKey; nonce?: string } = {}) =>
  makeProof(o.key ?? key, `${target.url}/items?ignored=1`, {
    htm: 'GET',
    accessToken: o.token ?? bound,
    ...(o.nonce ? { nonce: o.nonce } : {}),
  });

it('a bound token with the DPoP scheme and a proof by its key: 200', async () => {
  const res = await items(api, { authorization: `DPoP ${bound}`, dpop: await proofFor(api) });
  expect(res.status).toBe(200);
});

it('a bound token sent as Bearer: 401 invalid_token with a DPoP challenge', async () => {
  const res = await items(api, { authorization: `Bearer ${bound}` });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(
    /^DPoP realm="[^"]+", error="invalid_token", error_description="[^"]+", algs="RS256 PS256 ES256 EdDSA"$/,
  );
  expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
});

it.each([
  ['no proof', async () => undefined],
  ['a proof for another token (ath)', () => proofFor(api, { token: bearer })],
  ['a proof by another key', async () => proofFor(api, { key: await proofKey('RS256') })],
  [
    'a proof for another path',
    () => makeProof(key, `${api.url}/admin`, { htm: 'GET', accessToken: bound }),
  ],
])('%s: 401 invalid_dpop_proof with a DPoP challenge', async (_name, make) => {
  const proof = await make();
  const res = await items(api, {
    authorization: `DPoP ${bound}`,
    ...(proof ? { dpop: proof } : {}),
  });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
});

it('a replayed proof: 401 invalid_dpop_proof', async () => {
  const headers = { authorization: `DPoP ${bound}`, dpop: await proofFor(api) };
  expect((await items(api, headers)).status).toBe(200);
  const replay = await items(api, headers);
  expect(replay.status).toBe(401);
  expect(replay.headers.get('www-authenticate')).toMatch(/error="invalid_dpop_proof"/);
});

it('bearer tokens work as before, and a missing token gets the bare Bearer challenge', async () => {
  expect((await items(api, { authorization: `Bearer ${bearer}` })).status).toBe(200);
  const none = await items(api, {});
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}"`);
  // An unbound token may not claim the DPoP scheme.
  const claimed = await items(api, {
    authorization: `DPoP ${bearer}`,
    dpop: await proofFor(api, { token: bearer }),
  });
  expect(claimed.status).toBe(401);
  expect(claimed.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
});

describe('with nonces of its own (RFC 9449 §9)', () => {
  let withNonces: RunningApi;
  beforeAll(async () => {
    const nonces = new DpopNonces({
      secrets: [randomBytes(32)],
      now: () => server().clock.now().getTime(),
    });
    withNonces = await startApi(server(), { dpop: { nonces } });
  });
  afterAll(async () => {
    await withNonces?.close();
  });

  it('no nonce: 401 use_dpop_nonce with DPoP-Nonce; with it: 200', async () => {
    const first = await items(withNonces, {
      authorization: `DPoP ${bound}`,
      dpop: await proofFor(withNonces),
    });
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toMatch(/^DPoP .*error="use_dpop_nonce"/);
    const nonce = first.headers.get('dpop-nonce')!;
    expect(nonce).toBeTruthy();
    const second = await items(withNonces, {
      authorization: `DPoP ${bound}`,
      dpop: await proofFor(withNonces, { nonce }),
    });
    expect(second.status).toBe(200);
  });

  it('oauth4webapi gets a DPoP token from Tessera and calls the API, retrying with the nonce', async () => {
    const c = await dpopClient(server(), service.client.id, service.secret);
    const tokens = await clientCredentials(c, 'api');
    const res = await withNonceRetry(() =>
      oauth.protectedResourceRequest(
        tokens.access_token,
        'GET',
        new URL(`${withNonces.url}/items`),
        new Headers(),
        null,
        { DPoP: c.dpop, ...insecure },
      ),
    );
    expect(res.status).toBe(200);
  });
});
