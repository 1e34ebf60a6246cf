/**
 * GET /.well-known/jwks.json (issue 3 §3): every next/active/retiring public key and nothing
 * private, cacheable for JWKS_MAX_AGE, strong ETag with 304, served from memory.
 */
import { request } from 'node:http';
import { rotateSigningKeys, rotationPolicy } from '../../src/keys/key-rotation';
import { startTestServer, type TestServer } from '../support/server';
import { ALGS, FAST_KEYS_ENV, keysIn } from '../support/keys';

// Each start creates, migrates and keys a fresh database: slow on a loaded 2-core machine.
jest.setTimeout(180_000);

interface Jwk {
  [member: string]: unknown;
  kid: string;
  alg: string;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { ...FAST_KEYS_ENV, JWKS_MAX_AGE: '7', METRICS_TOKEN } });
});
afterAll(async () => {
  await server?.stop();
});

const METRICS_TOKEN = 'metrics-token-jwks-0123456789abcdef';

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
      expect(
        published
          .filter((k) => k.alg === alg)
          .map((k) => k.state)
          .sort(),
      ).toEqual(['active', 'next']);
    }
    for (const key of keys) {
      expect(key.use).toBe('sig');
      if (key.alg === 'RS256')
        expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      else
        expect(key).toMatchObject({
          alg: 'ES256',
          kty: 'EC',
          crv: 'P-256',
          x: expect.any(String),
          y: expect.any(String),
        });
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
    [
      'the ETag as a weak validator (If-None-Match uses weak comparison, RFC 9110 §13.1.2)',
      304,
      (etag: string) => `W/${etag}`,
    ],
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
    await rotateSigningKeys(server.services);
    await server.services.keyStore.refresh();
    const after = await getJwks({ 'if-none-match': etag });
    expect(after.res.status).toBe(200);
    expect(after.res.headers.get('etag')).not.toBe(etag);
    const states = (await keysIn(server.services)).filter((k) => k.state !== 'retired');
    const { keys } = JSON.parse(after.text) as { keys: Jwk[] };
    expect(keys.map((k) => k.kid).sort()).toEqual(states.map((k) => k.kid).sort());
    for (const alg of ALGS) {
      expect(
        states
          .filter((k) => k.alg === alg)
          .map((k) => k.state)
          .sort(),
      ).toEqual(['active', 'next', 'retiring']);
    }
  });
});

/** How many requests /metrics has counted for the JWKS route with this method and status. */
async function counted(method: string, status: number): Promise<number> {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const series = `tessera_http_requests_total{method="${method}",route="/.well-known/jwks.json",status="${status}"}`;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

function allHeaders(res: Response): Record<string, string> {
  const h: Record<string, string> = {};
  res.headers.forEach((value, name) => (h[name] = value));
  return h;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

// Ordinary GETs and HEADs are answered ahead of Koa; requests with a body go through Koa.
describe('JWKS fast path and Koa route answer alike', () => {
  const headersOf = (res: Response) => {
    const h = allHeaders(res);
    // Per request or per connection, not per reply.
    for (const name of ['date', 'x-request-id', 'connection', 'keep-alive']) delete h[name];
    return h;
  };

  it('echoes a sane X-Request-Id (else makes one), sends the security headers and is counted in the request metrics', async () => {
    const before = {
      get: await counted('GET', 200),
      head: await counted('HEAD', 200),
      notModified: await counted('GET', 304),
    };
    const res = await fetch(`${server.url}/.well-known/jwks.json`, {
      headers: { 'x-request-id': 'jwks-req-12345678' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('jwks-req-12345678');
    expect(allHeaders(res)).toMatchObject({
      ...SECURITY_HEADERS,
      'access-control-allow-origin': '*',
    });
    const bad = await fetch(`${server.url}/.well-known/jwks.json`, {
      headers: { 'x-request-id': 'bad id <script>' },
    });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const head = await fetch(`${server.url}/.well-known/jwks.json`, { method: 'HEAD' });
    const etag = res.headers.get('etag')!;
    await fetch(`${server.url}/.well-known/jwks.json`, { headers: { 'if-none-match': etag } });
    expect(head.status).toBe(200);
    expect(await counted('GET', 200)).toBe(before.get + 2);
    expect(await counted('HEAD', 200)).toBe(before.head + 1);
    expect(await counted('GET', 304)).toBe(before.notModified + 1);
  });

  it('HEAD has the GET headers, Content-Length included, and no body; a query string changes nothing', async () => {
    const { res, text } = await getJwks();
    const head = await fetch(`${server.url}/.well-known/jwks.json`, { method: 'HEAD' });
    expect(headersOf(head)).toEqual(headersOf(res));
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(await head.text()).toBe('');
    const query = await fetch(`${server.url}/.well-known/jwks.json?cache=bust`);
    expect(headersOf(query)).toEqual(headersOf(res));
    expect(await query.text()).toBe(text);
  });

  it('a GET with a body goes through Koa and gets the same reply, 304 included; other methods get 405', async () => {
    const { res, text } = await getJwks();
    const raw = (method: string, headers: Record<string, string>, body: string) =>
      new Promise<{
        status: number;
        headers: Record<string, string | string[] | undefined>;
        body: string;
      }>((resolve, reject) => {
        // fetch refuses a GET with a body; node:http does not.
        const req = request(
          `${server.url}/.well-known/jwks.json`,
          { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
          (r) => {
            let data = '';
            r.setEncoding('utf8');
            r.on('data', (c: string) => (data += c));
            r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body: data }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const viaKoa = await raw('GET', { 'content-type': 'text/plain' }, 'hello');
    expect(viaKoa.status).toBe(200);
    expect(viaKoa.body).toBe(text);
    const {
      date: _d,
      'x-request-id': _id,
      connection: _c,
      'keep-alive': _k,
      ...koaHeaders
    } = viaKoa.headers;
    expect(koaHeaders).toEqual(headersOf(res));
    const notModified = await raw('GET', { 'if-none-match': res.headers.get('etag')! }, 'x');
    expect(notModified.status).toBe(304);
    expect(notModified.headers.etag).toBe(res.headers.get('etag'));
    const post = await fetch(`${server.url}/.well-known/jwks.json`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toMatch(/GET/);
    expect(await post.json()).toEqual({
      error: 'method_not_allowed',
      error_description: expect.any(String),
    });
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
