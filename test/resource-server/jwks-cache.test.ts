/**
 * How the middleware follows the issuer's keys: the JWKS is cached for its Cache-Control
 * max-age, a key rotation at the issuer is followed without restarting the API (unknown kid →
 * refetch), retired keys stop verifying, and a flood of unknown kids cannot hammer the issuer
 * (one refetch per cooldown). Time moves with Tessera's AdjustableClock, shared by the API.
 */
import { randomUUID } from 'node:crypto';
import { emergencyRetire } from '../../src/keys/key-rotation';
import { startTestServer, type TestServer } from '../support/server';
import {
  accessClaims,
  attackerKey,
  call,
  countingFetch,
  mint,
  signWith,
  startApi,
  type RunningApi,
} from '../support/resource-server';

const JWKS = '/.well-known/jwks.json';
const DISCOVERY = '/.well-known/openid-configuration';
const JWKS_MAX_AGE = 300;

let server: TestServer;
const apis: RunningApi[] = [];
beforeAll(async () => {
  server = await startTestServer({ env: { JWKS_MAX_AGE: String(JWKS_MAX_AGE) } });
});
afterAll(async () => {
  await Promise.all(apis.map((a) => a.close()));
  await server?.stop();
});

async function freshApi() {
  const counter = countingFetch();
  const api = await startApi(server, { fetch: counter.fetch, refetchCooldownSeconds: 30 });
  apis.push(api);
  return { api, counter };
}

async function retire(kid: string) {
  await emergencyRetire(server.services, kid);
  await server.services.keyStore.refresh();
}

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
}

describe('JWKS cache', () => {
  it('discovers jwks_uri once and reuses the JWKS for its max-age, then revalidates', async () => {
    const { api, counter } = await freshApi();
    for (let i = 0; i < 5; i++)
      expect((await call(api, '/items', await mint(server))).status).toBe(200);
    expect(counter.count(DISCOVERY)).toBe(1);
    expect(counter.count(JWKS)).toBe(1);

    server.clock.advance(JWKS_MAX_AGE + 1);
    expect((await call(api, '/items', await mint(server))).status).toBe(200);
    expect(counter.count(JWKS)).toBe(2);
  });

  it('follows a key rotation at the issuer without a restart (new kid → one refetch)', async () => {
    const { api, counter } = await freshApi();
    const before = await mint(server, { exp: server.clock.epochSeconds() + 3600 });
    expect((await call(api, '/items', before)).status).toBe(200);
    const cachedKids = (
      JSON.parse(server.services.keyStore.jwks().body) as { keys: { kid: string }[] }
    ).keys.map((k) => k.kid);

    // Two emergency retirements: the key that signs afterwards was created after the API
    // fetched the JWKS, so the API has never seen its kid.
    server.clock.advance(31);
    await retire(kidOf(before));
    await retire(server.services.keyStore.activeKid('RS256')!);
    const after = await mint(server);
    expect(cachedKids).not.toContain(kidOf(after));

    expect((await call(api, '/items', after)).status).toBe(200);
    expect(counter.count(JWKS)).toBe(2);

    // The refetched JWKS no longer has the retired key: its token is refused at once.
    const res = await call(api, '/items', before);
    expect(res.status).toBe(401);
    expect((await res.json()).error_description).toMatch(/does not publish/);
  });

  it('a token from a retired key is refused once the cached JWKS expires', async () => {
    const { api, counter } = await freshApi();
    const token = await mint(server, { exp: server.clock.epochSeconds() + 3600 });
    expect((await call(api, '/items', token)).status).toBe(200);
    await retire(kidOf(token));

    server.clock.advance(JWKS_MAX_AGE + 1);
    const res = await call(api, '/items', token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: 'invalid_token',
      error_description: expect.stringMatching(/does not publish/),
    });
    expect(counter.count(JWKS)).toBe(2);
  });

  it('a flood of unknown-kid tokens costs the issuer one JWKS fetch per cooldown', async () => {
    const { api, counter } = await freshApi();
    expect((await call(api, '/items', await mint(server))).status).toBe(200);
    expect(counter.count(JWKS)).toBe(1);
    const { privateKey } = await attackerKey();
    const flood = async () => {
      const tokens = await Promise.all(
        Array.from({ length: 40 }, () =>
          signWith(
            privateKey,
            { alg: 'RS256', typ: 'at+jwt', kid: randomUUID() },
            accessClaims(server),
          ),
        ),
      );
      const statuses = await Promise.all(
        tokens.map(async (t) => (await call(api, '/items', t)).status),
      );
      expect(new Set(statuses)).toEqual(new Set([401]));
    };

    await flood(); // within the cooldown of the first fetch: no refetch at all
    expect(counter.count(JWKS)).toBe(1);

    server.clock.advance(31);
    await flood(); // one refetch, shared by the concurrent requests
    expect(counter.count(JWKS)).toBe(2);
    await flood();
    expect(counter.count(JWKS)).toBe(2);
    expect(counter.count(DISCOVERY)).toBe(1);
  });

  it('tokens refused before any key lookup (alg none, HS256) never trigger a fetch', async () => {
    const { api, counter } = await freshApi();
    expect((await call(api, '/items', await mint(server))).status).toBe(200);
    server.clock.advance(31);
    const hs = await signWith(
      new TextEncoder().encode('x'.repeat(32)),
      { alg: 'HS256', typ: 'at+jwt', kid: randomUUID() },
      accessClaims(server),
    );
    for (let i = 0; i < 5; i++) expect((await call(api, '/items', hs)).status).toBe(401);
    expect(counter.count(JWKS)).toBe(1);
  });
});
