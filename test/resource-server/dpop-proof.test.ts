/**
 * The DPoP proof verifier (RFC 9449 §4.3) on its own: every check refuses with its stable
 * reason, htu is compared after RFC 3986 normalisation, nonces are stateless and shared by
 * instances holding the same secret, and the in-memory proof log refuses a replay.
 */
import { randomBytes } from 'node:crypto';
import {
  DpopNonces,
  DpopProofError,
  MemoryProofLog,
  verifyDpopProof,
  type DpopFailure,
  type DpopProofCheck,
} from '../../src/resource-server';
import { sameTarget } from '../../src/resource-server/dpop';
import { hmacProof, makeProof, proofKey, unsignedProof, type ProofKey } from '../support/dpop';

const URL_ = 'https://as.example/token';
const now = () => Date.now();
const check = (extra: Partial<DpopProofCheck> = {}): DpopProofCheck => ({
  method: 'POST',
  url: URL_,
  now: now(),
  maxAgeSeconds: 60,
  clockToleranceSeconds: 5,
  ...extra,
});

async function refusal(values: string | string[] | undefined, c: DpopProofCheck) {
  try {
    await verifyDpopProof(values, c);
  } catch (err) {
    if (err instanceof DpopProofError) return { reason: err.reason, error: err.error };
    throw err;
  }
  throw new Error('the proof was accepted');
}

let es: ProofKey;
let other: ProofKey;
beforeAll(async () => {
  es = await proofKey('ES256');
  other = await proofKey('ES256');
});

it.each(['ES256', 'RS256', 'PS256', 'EdDSA'] as const)(
  'accepts a valid %s proof and names its key by RFC 7638 thumbprint',
  async (alg) => {
    const key = await proofKey(alg);
    const verified = await verifyDpopProof(await makeProof(key, URL_), check());
    expect(verified.jkt).toBe(key.jkt);
    expect(verified.staleNonce).toBe(false);
  },
);

type Make = () => Promise<string | string[] | undefined>;
const refusals: [string, Make, DpopFailure][] = [
  ['no header', async () => undefined, 'missing'],
  ['two headers', async () => [await makeProof(es, URL_), await makeProof(es, URL_)], 'multiple'],
  ['two joined by the HTTP stack', async () => `${await makeProof(es, URL_)}, x.y.z`, 'multiple'],
  ['not a JWS', async () => 'not-a-jwt', 'malformed'],
  ['typ JWT', async () => makeProof(es, URL_, { header: { typ: 'JWT' } }), 'typ'],
  ['alg none', async () => unsignedProof(es, URL_), 'alg'],
  ['alg HS256 with a symmetric jwk', () => hmacProof(URL_), 'alg'],
  [
    'a private key in jwk',
    async () => makeProof(es, URL_, { header: { jwk: es.privateJwk } }),
    'private_key',
  ],
  ['no jwk', async () => makeProof(es, URL_, { header: { jwk: undefined } }), 'jwk'],
  [
    'a signature by another key',
    async () => makeProof(other, URL_, { header: { jwk: es.publicJwk } }),
    'signature',
  ],
  ['no jti', async () => makeProof(es, URL_, { payload: { jti: undefined } }), 'claims'],
  ['another method', async () => makeProof(es, URL_, { htm: 'GET' }), 'htm'],
  ['another URL', async () => makeProof(es, 'https://as.example/refresh'), 'htu'],
  ['another host', async () => makeProof(es, 'https://evil.example/token'), 'htu'],
  ['a stale iat', async () => makeProof(es, URL_, { iat: Math.floor(now() / 1000) - 61 }), 'iat'],
  [
    'an iat in the future',
    async () => makeProof(es, URL_, { iat: Math.floor(now() / 1000) + 30 }),
    'iat',
  ],
];
it.each(refusals)('refuses %s as invalid_dpop_proof (%s)', async (_name, make, reason) => {
  expect(await refusal(await make(), check())).toEqual({ reason, error: 'invalid_dpop_proof' });
});

it('binds the proof to the access token it comes with (ath)', async () => {
  const proof = await makeProof(es, URL_, { accessToken: 'token-a' });
  expect((await verifyDpopProof(proof, check({ accessToken: 'token-a' }))).jkt).toBe(es.jkt);
  expect(await refusal(proof, check({ accessToken: 'token-b' }))).toMatchObject({ reason: 'ath' });
  const noAth = await makeProof(es, URL_);
  expect(await refusal(noAth, check({ accessToken: 'token-a' }))).toMatchObject({ reason: 'ath' });
});

it.each([
  ['https://as.example/token?x=1#frag', true],
  ['HTTPS://AS.EXAMPLE:443/token', true],
  ['https://as.example/a/../token', true],
  ['https://as.example/%74oken', true],
  ['http://as.example/token', false],
  ['https://as.example:8443/token', false],
  ['https://as.example/token/', false],
  ['not a url', false],
])('htu %s matches https://as.example/token: %s (RFC 3986 §6)', (htu, same) => {
  expect(sameTarget(htu, URL_)).toBe(same);
});

it('refuses a replayed proof, per key and jti (§11.1)', async () => {
  const log = new MemoryProofLog(now);
  const proof = await makeProof(es, URL_, { jti: 'same' });
  await verifyDpopProof(proof, check({ useOnce: log.useOnce }));
  expect(await refusal(proof, check({ useOnce: log.useOnce }))).toMatchObject({ reason: 'replay' });
  // The same jti under another key is another proof.
  await verifyDpopProof(
    await makeProof(other, URL_, { jti: 'same' }),
    check({ useOnce: log.useOnce }),
  );
});

describe('server-provided nonces (§8, §9)', () => {
  const secret = randomBytes(32);
  let clock = Date.now();
  const nonces = () => new DpopNonces({ secrets: [secret], windowSeconds: 60, now: () => clock });

  it('a proof without the nonce, or with a foreign one, gets use_dpop_nonce', async () => {
    const n = nonces();
    expect(await refusal(await makeProof(es, URL_), check({ nonces: n }))).toEqual({
      reason: 'nonce',
      error: 'use_dpop_nonce',
    });
    const foreign = new DpopNonces({ secrets: [randomBytes(32)], now: () => clock }).current();
    const proof = await makeProof(es, URL_, { nonce: foreign });
    expect(await refusal(proof, check({ nonces: n }))).toMatchObject({ reason: 'nonce' });
  });

  it('another instance with the same secret accepts the nonce; the previous window too, then no more', async () => {
    const issued = nonces().current();
    const proof = () => makeProof(es, URL_, { nonce: issued });
    expect((await verifyDpopProof(await proof(), check({ nonces: nonces() }))).staleNonce).toBe(
      false,
    );
    clock += 60_000;
    expect((await verifyDpopProof(await proof(), check({ nonces: nonces() }))).staleNonce).toBe(
      true,
    );
    clock += 60_000;
    expect(await refusal(await proof(), check({ nonces: nonces() }))).toMatchObject({
      reason: 'nonce',
    });
  });

  it('a rotated secret still accepts nonces made under the old one', () => {
    const old = nonces().current();
    const rotated = new DpopNonces({
      secrets: [randomBytes(32), secret],
      windowSeconds: 60,
      now: () => clock,
    });
    expect(rotated.accepts(old)).toBe('current');
    expect(rotated.current()).not.toBe(old);
  });
});
