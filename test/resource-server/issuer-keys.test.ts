/**
 * IssuerKeys and verifyAccessToken against a small issuer of the test's own (a real HTTP
 * server whose discovery document, JWKS and Cache-Control the test controls), for the cases
 * a real Tessera never produces: a discovery document naming another issuer, keys without
 * `alg`, algorithms the issuer does not advertise, caching headers, an issuer that goes down.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { AccessTokenError } from '../../src/resource-server';
import { IssuerKeys, requireAccessToken, verifyAccessToken } from '../../src/resource-server';

interface FakeIssuer {
  url: string;
  discovery: Record<string, unknown>;
  jwks: { keys: JWK[] };
  cacheControl: string;
  up: boolean;
  jwksFetches: number;
  requests: number;
  close(): Promise<void>;
}

async function fakeIssuer(): Promise<FakeIssuer> {
  const state = {
    discovery: {},
    jwks: { keys: [] as JWK[] },
    cacheControl: 'max-age=120',
    up: true,
    jwksFetches: 0,
    requests: 0,
  } as FakeIssuer;
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (!state.up) return res.destroy();
    if (req.url === '/.well-known/openid-configuration')
      return res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(state.discovery));
    if (req.url === '/jwks') {
      state.jwksFetches++;
      return res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': state.cacheControl })
        .end(JSON.stringify(state.jwks));
    }
    return res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.url = url;
  state.discovery = {
    issuer: url,
    jwks_uri: `${url}/jwks`,
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
  };
  state.close = () => new Promise((r) => server.close(() => r()));
  return state;
}

let issuer: FakeIssuer;
let rsa: { privateKey: CryptoKey; jwk: JWK };
let ec: { privateKey: CryptoKey; jwk: JWK };
let t: number;
const now = () => t;

beforeAll(async () => {
  const make = async (alg: 'RS256' | 'ES256', kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  };
  [rsa, ec] = await Promise.all([make('RS256', 'rsa-1'), make('ES256', 'ec-1')]);
});
beforeEach(async () => {
  t = Date.now();
  issuer = await fakeIssuer();
  issuer.jwks = { keys: [rsa.jwk, ec.jwk] };
});
afterEach(async () => {
  await issuer.close();
});

function token(
  key: { privateKey: CryptoKey; jwk: JWK },
  header: Record<string, unknown> = {},
): Promise<string> {
  const iat = Math.floor(t / 1000);
  return new SignJWT({ sub: 'u', client_id: 'c', jti: 'j', scope: 'api' })
    .setProtectedHeader({ alg: key.jwk.alg!, kid: key.jwk.kid!, typ: 'at+jwt', ...header })
    .setIssuer(issuer.url)
    .setAudience('api')
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(key.privateKey);
}

const keysFor = () => new IssuerKeys({ issuer: issuer.url, now });
const verify = (jwt: string, keys: IssuerKeys) =>
  verifyAccessToken(jwt, keys, { issuer: issuer.url, audience: 'api', now });
const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: AccessTokenError) => e.reason,
  );

describe('IssuerKeys', () => {
  it('verifies RS256 and ES256 tokens with keys from the discovered jwks_uri', async () => {
    const keys = keysFor();
    await expect(verify(await token(rsa), keys)).resolves.toMatchObject({
      alg: 'RS256',
      kid: 'rsa-1',
      scopes: ['api'],
    });
    await expect(verify(await token(ec), keys)).resolves.toMatchObject({
      alg: 'ES256',
      kid: 'ec-1',
    });
  });

  it('refuses a discovery document that names another issuer (OIDC Discovery §4.3)', async () => {
    issuer.discovery = { ...issuer.discovery, issuer: 'https://someone-else.example' };
    expect(await reasonOf(verify(await token(rsa), keysFor()))).toBe('issuer_unavailable');
    expect(issuer.jwksFetches).toBe(0);
  });

  it('pins algorithms to what the issuer advertises', async () => {
    issuer.discovery = { ...issuer.discovery, id_token_signing_alg_values_supported: ['ES256'] };
    const keys = keysFor();
    expect(await reasonOf(verify(await token(rsa), keys))).toBe('alg_not_allowed');
    expect(await reasonOf(verify(await token(ec), keys))).toBe('accepted');
  });

  it('ignores JWKs without alg, with use "enc", or carrying private members', async () => {
    const { alg: _alg, ...noAlg } = rsa.jwk;
    issuer.jwks = {
      keys: [noAlg, { ...ec.jwk, use: 'enc' }, { ...rsa.jwk, kid: 'with-private', d: 'AAAA' }],
    };
    const keys = keysFor();
    expect(await reasonOf(verify(await token(rsa), keys))).toBe('unknown_kid');
    expect(await reasonOf(verify(await token(ec), keys))).toBe('unknown_kid');
    expect(await reasonOf(verify(await token(rsa, { kid: 'with-private' }), keys))).toBe(
      'unknown_kid',
    );
  });

  it.each([
    ['max-age=120', 60, 1],
    ['max-age=120', 121, 2],
    ['no-store', 10, 1], // never less than the 30 s cooldown
    ['no-store', 31, 2],
    ['max-age=999999999', 25 * 3600, 2], // never more than a day
  ])(
    'Cache-Control "%s": after %i s the JWKS has been fetched %i time(s)',
    async (cacheControl, seconds, fetches) => {
      issuer.cacheControl = cacheControl;
      const keys = keysFor();
      await verify(await token(rsa), keys);
      t += seconds * 1000;
      await verify(await token(rsa), keys);
      expect(issuer.jwksFetches).toBe(fetches);
    },
  );

  it('keeps using the cached keys for a while when the issuer is down, and fetches once per cooldown', async () => {
    const keys = keysFor();
    await verify(await token(rsa), keys);
    issuer.up = false;
    t += 121_000;
    expect(await reasonOf(verify(await token(rsa), keys))).toBe('accepted');
    expect(await reasonOf(verify(await token(rsa), keys))).toBe('accepted');
    t += 2 * 3600_000;
    expect(await reasonOf(verify(await token(rsa), keys))).toBe('issuer_unavailable');
  });

  it('an issuer that is down from the start is asked at most once per cooldown, however many requests come', async () => {
    issuer.up = false;
    const keys = keysFor();
    const jwt = await token(rsa);
    for (let i = 0; i < 10; i++)
      expect(await reasonOf(verify(jwt, keys))).toBe('issuer_unavailable');
    expect(issuer.requests).toBe(1);
    t += 31_000;
    issuer.up = true;
    expect(await reasonOf(verify(jwt, keys))).toBe('accepted');
  });
});

describe('requireAccessToken when the issuer fails', () => {
  it('answers 503 with Retry-After, reports to onIssuerError, and sends no Bearer error', async () => {
    issuer.discovery = { ...issuer.discovery, issuer: 'https://someone-else.example' };
    const seen: string[] = [];
    const app = new Koa();
    app.use(
      requireAccessToken({
        issuer: issuer.url,
        audience: 'api',
        now,
        onIssuerError: (e) => seen.push(e.message),
      }),
    );
    app.use((ctx) => (ctx.body = 'ok'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        headers: { authorization: `Bearer ${await token(rsa)}` },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(await res.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: expect.any(String),
      });
      expect(seen).toEqual([expect.stringMatching(/different issuer/)]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses to start without an audience', () => {
    expect(() => requireAccessToken({ issuer: issuer.url, audience: '' })).toThrow(
      /audience is required/,
    );
  });
});
