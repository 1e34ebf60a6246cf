/**
 * GET /.well-known/jwks.json (issue 3 §3): every next/active/retiring public key and nothing
 * private, cacheable for JWKS_MAX_AGE, strong ETag with 304, served from memory.
 */
import { rotate, rotationPolicy } from '../../src/keys/rotation';
import { startTestServer, type TestServer } from '../helpers/server';
import { ALGS, FAST_KEYS_ENV, keysIn } from '../keys/support';

// Each start creates, migrates and keys a fresh database: slow on a loaded 2-core machine.
jest.setTimeout(180_000);

interface Jwk {
  [member: string]: unknown;
  kid: string;
  alg: string;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { ...FAST_KEYS_ENV, JWKS_MAX_AGE: '7' } });
});
afterAll(async () => {
  await server?.stop();
});

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

async function getJwks(headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/.well-known/jwks.json`, { headers });
  return { res, text: await res.text() };
}

describe('JWKS endpoint', () => {
  it('publishes the next and active key of every algorithm with only public members', async () => {
    const { res, text } = await getJwks();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    const { keys } = JSON.parse(text) as { keys: Jwk[] };
    const published = (await keysIn(server.services)).filter((k) => k.state !== 'retired');
    expect(keys.map((k) => k.kid).sort()).toEqual(published.map((k) => k.kid).sort());
    for (const alg of ALGS) {
      expect(published.filter((k) => k.alg === alg).map((k) => k.state).sort()).toEqual(['active', 'next']);
    }
    for (const key of keys) {
      expect(key.use).toBe('sig');
      if (key.alg === 'RS256') expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      else expect(key).toMatchObject({ alg: 'ES256', kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) });
      for (const m of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(m);
    }
  });

  it('is cacheable for JWKS_MAX_AGE with a strong ETag', async () => {
    const { res } = await getJwks();
    expect(res.headers.get('cache-control')).toBe('public, max-age=7');
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/); // strong: no W/ prefix
  });

  it.each([
    ['the exact ETag', 304, (etag: string) => etag],
    ['the ETag as a weak validator (If-None-Match uses weak comparison, RFC 9110 §13.1.2)', 304, (etag: string) => `W/${etag}`],
    ['a list containing the ETag', 304, (etag: string) => `"other", ${etag}`],
    ['*', 304, () => '*'],
    ['another ETag', 200, () => '"stale"'],
  ])('If-None-Match with %s → %d', async (_name, status, header) => {
    const etag = (await getJwks()).res.headers.get('etag')!;
    const { res, text } = await getJwks({ 'if-none-match': header(etag) });
    expect(res.status).toBe(status);
    expect(res.headers.get('etag')).toBe(etag);
    expect(res.headers.get('cache-control')).toBe('public, max-age=7');
    if (status === 304) expect(text).toBe('');
  });

  it('changes its ETag after a rotation and publishes the retiring key', async () => {
    const before = await getJwks();
    const etag = before.res.headers.get('etag')!;
    server.clock.advance((await rotationPolicy(server.services)).publishWaitSeconds);
    await rotate(server.services);
    await server.services.keyStore.refresh();
    const after = await getJwks({ 'if-none-match': etag });
    expect(after.res.status).toBe(200);
    expect(after.res.headers.get('etag')).not.toBe(etag);
    const states = (await keysIn(server.services)).filter((k) => k.state !== 'retired');
    const { keys } = JSON.parse(after.text) as { keys: Jwk[] };
    expect(keys.map((k) => k.kid).sort()).toEqual(states.map((k) => k.kid).sort());
    for (const alg of ALGS) {
      expect(states.filter((k) => k.alg === alg).map((k) => k.state).sort()).toEqual(['active', 'next', 'retiring']);
    }
  });
});

describe('JWKS served from memory', () => {
  it('still answers, unchanged, while the database is closed', async () => {
    const own = await startTestServer({ env: FAST_KEYS_ENV });
    try {
      const before = await fetch(`${own.url}/.well-known/jwks.json`);
      const body = await before.text();
      await own.services.db.close();
      // The database really is gone: readiness says so.
      expect((await fetch(`${own.url}/readyz`)).status).toBe(503);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${own.url}/.well-known/jwks.json`);
        expect(res.status).toBe(200);
        expect(res.headers.get('etag')).toBe(before.headers.get('etag'));
        expect(await res.text()).toBe(body);
      }
    } finally {
      await own.stop().catch(() => {});
    }
  });
});
