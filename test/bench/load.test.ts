/**
 * The benchmark's load generator must parse every framing the servers use and must count a
 * wrong answer as an error; otherwise a broken server would read as fast.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildRequest, RawConnection, type RawResponse } from '../../bench/load/connection';
import { runLoad } from '../../bench/load/run-load';
import { DpopProofMaker } from '../../bench/load/dpop-proofs';
import { checkBody, type LoadSpec } from '../../bench/load/spec';
import { dpopProofKey } from '../../bench/tessera';
import { verifyDpopProof } from '../../src/resource-server/dpop';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (header: object) => `${b64(header)}.${b64({ sub: 'x' })}.sig`;

let server: http.Server;
let port: number;
const seen = new Set<string>();
let replays = 0;
const onceBodies: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/chunked') {
      res.write('{"keys":[{"kid":"a",');
      res.end('"kty":"EC"}]}');
    } else if (req.url === '/empty') {
      res.statusCode = 304;
      res.end();
    } else if (req.url === '/token') {
      // A refresh server in miniature: each token is "<chain>.<step>"; answers the next step and
      // remembers any token presented twice (a load generator that does not walk its chain).
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const presented = new URLSearchParams(raw).get('refresh_token') ?? '';
        if (seen.has(presented)) replays++;
        seen.add(presented);
        const [chain, step] = presented.split('.');
        const body = JSON.stringify({
          token_type: 'Bearer',
          expires_in: 900,
          access_token: jwt({ alg: 'ES256', typ: 'at+jwt', kid: 'k' }),
          refresh_token: `${chain}.${parseInt(step ?? '0', 10) + 1}`.padEnd(24, '_'),
        });
        res.setHeader('content-length', Buffer.byteLength(body));
        res.end(body);
      });
    } else if (req.url === '/once') {
      // A state-changing endpoint in miniature (revocation): records every body it is sent.
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        onceBodies.push(raw);
        res.setHeader('content-length', 0);
        res.end();
      });
    } else if (req.url === '/slow') {
      const body = JSON.stringify({ keys: [{ kid: 'a', kty: 'RSA' }] });
      res.setHeader('content-length', Buffer.byteLength(body));
      setTimeout(() => res.end(body), 20);
    } else if (req.url === '/error') {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end('{"error":"invalid_grant"}');
    } else {
      const body = JSON.stringify({ keys: [{ kid: 'a', kty: 'RSA' }] });
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const send = (conn: RawConnection, path: string) =>
  new Promise<RawResponse>((resolve, reject) =>
    conn.send(buildRequest({ method: 'GET', path, host: `127.0.0.1:${port}` }), (err, res) =>
      err ? reject(err) : resolve(res!),
    ),
  );

describe('RawConnection', () => {
  it('reads Content-Length, chunked and body-less answers in turn on one keep-alive socket', async () => {
    const conn = await RawConnection.open('127.0.0.1', port);
    try {
      const plain = await send(conn, '/');
      expect(plain.status).toBe(200);
      expect(JSON.parse(plain.body.toString())).toEqual({ keys: [{ kid: 'a', kty: 'RSA' }] });
      const chunked = await send(conn, '/chunked');
      expect(chunked.head.toLowerCase()).toContain('transfer-encoding: chunked');
      expect(JSON.parse(chunked.body.toString())).toEqual({ keys: [{ kid: 'a', kty: 'EC' }] });
      const empty = await send(conn, '/empty');
      expect(empty.status).toBe(304);
      expect(empty.body.length).toBe(0);
      expect((await send(conn, '/')).status).toBe(200);
    } finally {
      conn.close();
    }
  });
});

describe('checkBody', () => {
  const token = (over: Record<string, unknown> = {}) => ({
    token_type: 'Bearer',
    expires_in: 900,
    access_token: jwt({ alg: 'ES256', typ: 'at+jwt', kid: 'k' }),
    refresh_token: 'r'.repeat(43),
    ...over,
  });

  it.each([
    ['a good token response', token(), null],
    [
      'another alg',
      token({ access_token: jwt({ alg: 'RS256', typ: 'at+jwt', kid: 'k' }) }),
      'access_token alg RS256, expected ES256',
    ],
    [
      'a plain JWT typ',
      token({ access_token: jwt({ alg: 'ES256', typ: 'JWT', kid: 'k' }) }),
      'access_token typ JWT, expected at+jwt',
    ],
    [
      'no kid',
      token({ access_token: jwt({ alg: 'ES256', typ: 'at+jwt' }) }),
      'access_token has no kid',
    ],
    [
      'an opaque access token',
      token({ access_token: 'opaque' }),
      'access_token is not a compact JWS',
    ],
    [
      'the same refresh token back',
      token({ refresh_token: 'p'.repeat(43) }),
      'refresh_token was not rotated',
    ],
    ['no refresh token', token({ refresh_token: undefined }), 'refresh_token missing'],
  ])('%s', (_name, body, expected) => {
    expect(
      checkBody(
        { status: 200, body: 'token', alg: 'ES256', refreshToken: true },
        body,
        'p'.repeat(43),
      ),
    ).toBe(expected);
  });

  it.each([
    [{ active: true, client_id: 'c', exp: 1 }, null],
    [{ active: false }, 'introspection active=false'],
  ])('introspection %j', (body, expected) => {
    expect(checkBody({ status: 200, body: 'introspection' }, body)).toBe(expected);
  });

  it('refuses a JWKS that leaks a private member', () => {
    expect(
      checkBody({ status: 200, body: 'jwks' }, { keys: [{ kid: 'a', kty: 'EC', d: 'secret' }] }),
    ).toBe('JWKS key malformed or private');
  });
});

describe('runLoad', () => {
  const spec = (path: string, status = 200): LoadSpec => ({
    name: path,
    host: '127.0.0.1',
    port,
    connections: 2,
    warmupMs: 100,
    warmupRequests: 0,
    warmupMaxMs: 0,
    durationMs: 300,
    sampleEvery: 1,
    request: { kind: 'fixed', method: 'GET', path, headers: {} },
    check: { status, body: 'jwks' },
  });

  it('counts answers and checks bodies when the server is right', async () => {
    const r = await runLoad(spec('/'));
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(0);
    expect(r.bodiesChecked).toBeGreaterThan(0);
  });

  it('warms up for at least warmupRequests correct answers, at most warmupMaxMs', async () => {
    // The server answers /slow after 20 ms: 2 connections make ~100 answers/s, so 40 answers
    // take ~0.4 s, longer than warmupMs.
    const counted = await runLoad({ ...spec('/slow'), warmupRequests: 40, warmupMaxMs: 5000 });
    expect(counted.errors).toBe(0);
    expect(counted.warmupMs).toBeGreaterThanOrEqual(380);
    expect(counted.warmupMs).toBeLessThan(5000);
    const capped = await runLoad({ ...spec('/slow'), warmupRequests: 1_000_000, warmupMaxMs: 250 });
    expect(capped.warmupMs).toBeGreaterThanOrEqual(250);
    expect(capped.warmupMs).toBeLessThan(2000);
    expect(capped.requests).toBeGreaterThan(0);
    const timed = await runLoad(spec('/slow'));
    expect(timed.warmupMs).toBeGreaterThanOrEqual(100);
    expect(timed.warmupMs).toBeLessThan(1000);
  });

  it('sends every body once with eachBodyOnce, across connections', async () => {
    const bodies = Array.from({ length: 100_000 }, (_, i) => `token=t${i}`);
    const r = await runLoad({
      ...spec('/once'),
      connections: 4,
      request: {
        kind: 'fixed',
        method: 'POST',
        path: '/once',
        headers: {},
        bodies,
        eachBodyOnce: true,
      },
      check: { status: 200, body: 'none' },
    });
    expect(r.errors).toBe(0);
    expect(onceBodies.length).toBeGreaterThan(4);
    expect(new Set(onceBodies).size).toBe(onceBodies.length);
    const sent = new Set(bodies);
    expect(onceBodies.every((b) => sent.has(b))).toBe(true);
  });

  it('counts every wrong status as an error', async () => {
    const r = await runLoad(spec('/error'));
    expect(r.errors).toBeGreaterThan(0);
    expect(r.requests).toBe(0);
    expect(r.errorSamples[0]).toContain('HTTP 400');
  });

  it('walks one refresh chain per connection, always presenting the token it got last', async () => {
    const r = await runLoad({
      ...spec('/token'),
      connections: 3,
      request: {
        kind: 'refresh-chain',
        path: '/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        initialTokens: ['a.0', 'b.0', 'c.0'],
        extraParams: '',
      },
      check: { status: 200, body: 'token', alg: 'ES256', refreshToken: true },
    });
    expect(r.errors).toBe(0);
    expect(replays).toBe(0);
    expect(r.meanChainLength).toBeGreaterThan(1);
  });
});

describe('DPoP proofs of the load generator', () => {
  it('are fresh per request and pass the verifier the server uses (RFC 9449 §4.3)', async () => {
    const { key, jkt } = await dpopProofKey();
    const maker = new DpopProofMaker(key, 'POST', 'http://127.0.0.1:3000/token');
    const seenJtis = new Set<string>();
    for (const proof of [maker.next(), maker.next(), maker.next()]) {
      const verified = await verifyDpopProof(proof, {
        method: 'POST',
        url: 'http://127.0.0.1:3000/token',
        now: Date.now(),
        maxAgeSeconds: 60,
        clockToleranceSeconds: 5,
      });
      expect(verified.jkt).toBe(jkt);
      seenJtis.add(verified.jti);
    }
    expect(seenJtis.size).toBe(3);
  });

  it('checkBody wants token_type DPoP and the proof key in cnf.jkt', () => {
    const at = (payload: object) =>
      `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k' })}.${b64(payload)}.sig`;
    const check = { status: 200, body: 'token', alg: 'ES256', dpopJkt: 'jkt-1' } as const;
    const ok = { token_type: 'DPoP', expires_in: 900, access_token: at({ cnf: { jkt: 'jkt-1' } }) };
    expect(checkBody(check, ok)).toBeNull();
    expect(checkBody(check, { ...ok, token_type: 'Bearer' })).toBe('token_type Bearer');
    expect(checkBody(check, { ...ok, access_token: at({ cnf: { jkt: 'other' } }) })).toBe(
      'access_token cnf.jkt is not the proof key',
    );
  });
});
