/**
 * Hostile input (issue 7): a seeded, bounded fuzz run against every route in the route table
 * with random and mutated bodies, headers and query strings — oversized values, wrong content
 * types, invalid UTF-8, deeply nested JSON, repeated parameters, broken credentials. The server
 * must never answer 5xx and must still be alive afterwards. The seed is fixed so a failure
 * reproduces; set FUZZ_SEED / FUZZ_RUNS to explore further.
 */
import fc from 'fast-check';
import { createClient } from '../../src/admin/clients';
import { createUser } from '../../src/admin/users';
import { buildRouter } from '../../src/http/routes';
import { startTestServer, type TestServer } from '../support/server';
import { send, type RawRequest } from '../support/fuzz';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const BODY_LIMIT = 8192;

let server: TestServer;
let routes: { method: string; path: string }[];
let valid: { basic: string; refreshToken: string; accessToken: string; email: string };

beforeAll(async () => {
  server = await startTestServer({
    env: {
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      LOGIN_MAX_FAILURES: '1000',
      IP_MAX_FAILURES: '100000',
    },
  });
  // Every route the app serves, straight from the route table (so new endpoints are fuzzed too).
  routes = buildRouter(server.services)
    .stack.filter((layer) => layer.methods.length > 0)
    .flatMap((layer) =>
      layer.methods
        .filter((m) => m !== 'HEAD')
        .map((method) => ({ method, path: String(layer.path) })),
    );
  expect(routes.length).toBeGreaterThan(10);

  const email = 'fuzz@example.com';
  await createUser(server.services, { email, password: 'correct horse battery staple' });
  const c = await createClient(server.services, {
    name: 'fuzz',
    firstParty: true,
    grantTypes: ['password', 'refresh_token', 'client_credentials', 'authorization_code'],
    redirectUris: ['https://app.example.com/cb'],
  });
  const basic = `Basic ${Buffer.from(`${c.client.id}:${c.secret}`).toString('base64')}`;
  const login = await send(server.url, {
    method: 'POST',
    path: '/token',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(
      new URLSearchParams({
        grant_type: 'password',
        username: email,
        password: 'correct horse battery staple',
        scope: 'openid offline_access',
      }).toString(),
    ),
  });
  expect(login.status).toBe(200);
  const tokens = JSON.parse(login.body.toString()) as {
    refresh_token: string;
    access_token: string;
  };
  valid = { basic, refreshToken: tokens.refresh_token, accessToken: tokens.access_token, email };
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

// ---- generators -------------------------------------------------------------------------

const PARAM_NAMES = [
  'grant_type',
  'username',
  'password',
  'scope',
  'refresh_token',
  'code',
  'code_verifier',
  'redirect_uri',
  'client_id',
  'client_secret',
  'token',
  'token_type_hint',
  'response_type',
  'state',
  'nonce',
  'prompt',
  'max_age',
  'id_token_hint',
  'code_challenge',
  'code_challenge_method',
  'post_logout_redirect_uri',
  'csrf',
  'interaction',
  'access_token',
  '__proto__',
  'constructor',
];
const GRANTS = [
  'password',
  'refresh_token',
  'client_credentials',
  'authorization_code',
  'urn:ietf:params:oauth:grant-type:device_code',
  '',
];

const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '%',
    '%zz',
    '\u0000',
    '\uFFFD',
    '\uD800',
    '../../etc/passwd',
    '<script>',
    "' OR 1=1 --",
    'null',
    '[]',
    '{}',
    'eyJhbGciOiJub25lIn0.e30.',
    'a.b.c',
    '..',
    'x'.repeat(5000),
  ),
  fc.integer().map(String),
);

const paramValue = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: nastyString },
    { weight: 1, arbitrary: fc.constantFrom(...GRANTS) },
    { weight: 1, arbitrary: fc.constant('VALID_REFRESH') },
    { weight: 1, arbitrary: fc.constant('VALID_ACCESS') },
    { weight: 1, arbitrary: fc.constant('VALID_EMAIL') },
  );

const params = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 12 })), paramValue()),
  { maxLength: 8 },
);

function deepJson(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

type BodyKind =
  | { kind: 'none' }
  | { kind: 'form' | 'json' | 'json-raw'; pairs: [string, string][] }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'deep'; depth: number }
  | { kind: 'big'; size: number };

const body: fc.Arbitrary<BodyKind> = fc.oneof(
  fc.constant<BodyKind>({ kind: 'none' }),
  params.map((pairs): BodyKind => ({ kind: 'form', pairs })),
  params.map((pairs): BodyKind => ({ kind: 'json', pairs })),
  params.map((pairs): BodyKind => ({ kind: 'json-raw', pairs })),
  // Random bytes: mostly invalid UTF-8.
  fc.uint8Array({ maxLength: 200 }).map((bytes): BodyKind => ({ kind: 'bytes', bytes })),
  fc.integer({ min: 100, max: 100_000 }).map((depth): BodyKind => ({ kind: 'deep', depth })),
  fc
    .integer({ min: BODY_LIMIT - 10, max: BODY_LIMIT * 4 })
    .map((size): BodyKind => ({ kind: 'big', size })),
);

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/json',
  'application/json; charset=latin1',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
  '*/*',
  'application/x-www-form-urlencoded, application/json',
];

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant('VALID_BASIC'),
  fc.constant('VALID_BEARER'),
  fc.constantFrom(
    'Basic',
    'Basic ',
    'Basic !!!',
    'Basic Og==',
    `Basic ${Buffer.from('a\u0000b:secret').toString('base64')}`,
    'Bearer',
    'Bearer ',
    'Bearer a.b.c',
    'Negotiate abc',
    'basic Zm9vOmJhcg==',
  ),
  fc.string({ maxLength: 60 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
  fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
);

const request = fc.record({
  route: fc.nat(),
  query: params,
  rawQuery: fc.option(fc.nat(), { nil: undefined }),
  contentType: fc.constantFrom(...CONTENT_TYPES),
  authorization,
  cookie: fc.option(
    fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x21-\x7e]/g, '')),
    { nil: undefined },
  ),
  origin: fc.option(fc.constantFrom('https://app.example.com', 'https://evil.example', 'null'), {
    nil: undefined,
  }),
  forwardedFor: fc.option(fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1', ''), {
    nil: undefined,
  }),
  body,
});

// ---- turning a generated case into bytes --------------------------------------------------

function resolve(v: string): string {
  if (v === 'VALID_REFRESH') return valid.refreshToken;
  if (v === 'VALID_ACCESS') return valid.accessToken;
  if (v === 'VALID_EMAIL') return valid.email;
  return v;
}

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD instead of throwing). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

/** Query fragments sent as they are: invalid UTF-8 and broken escapes. */
const RAW_QUERY = [
  'a=%ff%fe',
  'state=%c3%28',
  'x=%',
  'scope=%zz',
  '=&=&',
  'client_id=a&client_id=b',
  'response_type=code&response_type=token',
];

function encodeBody(b: BodyKind): Buffer | undefined {
  switch (b.kind) {
    case 'none':
      return undefined;
    case 'form':
      return Buffer.from(b.pairs.map(([k, v]) => `${pct(k)}=${pct(resolve(v))}`).join('&'));
    case 'json':
      return Buffer.from(
        JSON.stringify(Object.fromEntries(b.pairs.map(([k, v]) => [k, resolve(v)]))),
      );
    case 'json-raw':
      // Non-string values, arrays, nulls where strings are expected.
      return Buffer.from(
        JSON.stringify(
          Object.fromEntries(
            b.pairs.map(([k, v], i) => [k, [resolve(v), 1, null, [v], { v }, true][i % 6]]),
          ),
        ),
      );
    case 'bytes':
      return Buffer.from(b.bytes);
    case 'deep':
      return Buffer.from(deepJson(b.depth));
    case 'big':
      return Buffer.alloc(b.size, 'a');
  }
}

type Case = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toRequest(c: Case): RawRequest {
  const route = routes[c.route % routes.length]!;
  const qs = [
    ...c.query.map(([k, v]) => `${pct(k)}=${pct(resolve(v))}`),
    ...(c.rawQuery === undefined ? [] : [RAW_QUERY[c.rawQuery % RAW_QUERY.length]!]),
  ].join('&');
  const headers: Record<string, string> = {};
  const auth =
    c.authorization === 'VALID_BASIC'
      ? valid.basic
      : c.authorization === 'VALID_BEARER'
        ? `Bearer ${valid.accessToken}`
        : c.authorization;
  if (auth !== undefined) headers.authorization = auth;
  if (c.contentType) headers['content-type'] = c.contentType;
  if (c.cookie) headers.cookie = c.cookie;
  if (c.origin) headers.origin = c.origin;
  if (c.forwardedFor !== undefined) headers['x-forwarded-for'] = c.forwardedFor;
  return {
    method: route.method,
    path: `${route.path}${qs ? `?${qs}` : ''}`,
    headers,
    body: encodeBody(c.body),
  };
}

// ---- the properties ----------------------------------------------------------------------

describe('fuzzing every endpoint', () => {
  it(`never answers 5xx (seed ${SEED}, ${RUNS} runs)`, async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(request, async (c) => {
        const req = toRequest(c);
        const res = await send(server.url, req);
        seen.add(`${req.method} ${req.path.split('?')[0]}`);
        if (res.status >= 500) {
          throw new Error(
            `${req.method} ${req.path.slice(0, 200)} → ${res.status}: ${res.body.toString().slice(0, 300)}`,
          );
        }
        expect(res.status).toBeGreaterThanOrEqual(200);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The run reached every route.
    expect(seen.size).toBe(new Set(routes.map((r) => `${r.method} ${r.path}`)).size);
    // And the server is alive and well afterwards.
    expect((await send(server.url, { method: 'GET', path: '/healthz', headers: {} })).status).toBe(
      200,
    );
    expect((await send(server.url, { method: 'GET', path: '/readyz', headers: {} })).status).toBe(
      200,
    );
  }, 240_000);

  it.each(['/token', '/revoke', '/introspect', '/userinfo', '/login', '/authorize'])(
    '%s: deeply nested JSON, invalid UTF-8 and repeated parameters are 4xx',
    async (path) => {
      for (const [contentType, bytes] of [
        ['application/json', Buffer.from(deepJson(200_000).slice(0, BODY_LIMIT - 1))],
        ['application/json', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])],
        ['application/x-www-form-urlencoded', Buffer.from([0x61, 0x3d, 0xff, 0xfe])],
        [
          'application/x-www-form-urlencoded',
          Buffer.from('token=a&token=b&grant_type=password&grant_type=password'),
        ],
      ] as const) {
        const res = await send(server.url, {
          method: 'POST',
          path,
          headers: { 'content-type': contentType, authorization: valid.basic },
          body: bytes,
        });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
    },
  );
});
