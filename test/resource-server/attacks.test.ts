/**
 * The example API (requireAccessToken) against a live Tessera: a real token passes, and every
 * attack of the production issue's JWT list is refused with 401 invalid_token (RFC 6750 §3.1).
 */
import { createPublicKey } from 'node:crypto';
import { base64url, exportSPKI, importJWK, type KeyObject } from 'jose';
import { startTestServer, type TestServer } from '../support/server';
import {
  accessClaims,
  activePrivateKey,
  attackerKey,
  AUDIENCE,
  call,
  challengeOf,
  mint,
  signRawRs256,
  signWith,
  startApi,
  unsigned,
  type RunningApi,
} from '../support/resource-server';

let server: TestServer;
let api: RunningApi;
beforeAll(async () => {
  server = await startTestServer();
  api = await startApi(server);
});
afterAll(async () => {
  await api?.close();
  await server?.stop();
});

describe('requireAccessToken: accepted tokens', () => {
  it.each(['RS256', 'ES256'] as const)(
    'a valid %s access token reaches /items, with its claims on ctx.state.auth',
    async (alg) => {
      const res = await call(api, '/items', await mint(server, {}, { alg }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        items: ['a', 'b'],
        sub: 'user-1',
        client_id: 'client-1',
        scopes: ['api', 'profile'],
      });
    },
  );

  it('the public route needs no token', async () => {
    expect((await call(api, '/public')).status).toBe(200);
  });

  it('accepts an aud list that contains this API, and a typ written as application/at+jwt', async () => {
    const token = await mint(
      server,
      { aud: ['https://other.example', AUDIENCE] },
      { typ: 'application/at+jwt' },
    );
    expect((await call(api, '/items', token)).status).toBe(200);
  });

  it('tolerates a small clock skew (exp 10 s ago is within the default 30 s)', async () => {
    const now = server.clock.epochSeconds();
    expect(
      (await call(api, '/items', await mint(server, { iat: now - 100, exp: now - 10 }))).status,
    ).toBe(200);
  });
});

describe('requireAccessToken: RFC 6750 challenges', () => {
  it('no token: 401 with only the realm, no error information (§3.1)', async () => {
    const res = await call(api, '/items');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}"`);
  });

  it('another Authorization scheme counts as no Bearer token', async () => {
    const res = await fetch(`${api.url}/items`, {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toEqual({ realm: AUDIENCE });
  });

  it.each([
    [
      'a token in the query string (§2.3 is not supported: it leaks into logs)',
      '/items?access_token=abc',
      {},
    ],
    ['a malformed Bearer header', '/items', { authorization: 'Bearer a b c' }],
  ])('%s: 400 invalid_request', async (_name, path, headers) => {
    const res = await fetch(`${api.url}${path}`, { headers });
    expect(res.status).toBe(400);
    expect(challengeOf(res).error).toBe('invalid_request');
    expect((await res.json()).error).toBe('invalid_request');
  });

  it('a token without scope "api": 403 insufficient_scope naming the scope', async () => {
    const res = await call(api, '/items', await mint(server, { scope: 'profile' }));
    expect(res.status).toBe(403);
    expect(challengeOf(res)).toMatchObject({
      realm: AUDIENCE,
      error: 'insufficient_scope',
      scope: 'api',
    });
    expect((await res.json()).error).toBe('insufficient_scope');
  });

  it.each([
    [['admin'], 200],
    [['reader'], 403],
    [[], 403],
  ])('roles %j on /admin: %i', async (roles, status) => {
    const res = await call(api, '/admin', await mint(server, { roles }));
    expect(res.status).toBe(status);
    if (status === 403) expect(challengeOf(res).error).toBe('insufficient_scope');
  });
});

describe('requireAccessToken: every JWT attack is 401 invalid_token', () => {
  const attacks: [string, RegExp, () => Promise<string>][] = [
    [
      'alg "none"',
      /not a signed JWT/,
      async () =>
        unsigned(
          { alg: 'none', typ: 'at+jwt', kid: server.services.keyStore.activeKid('RS256') },
          accessClaims(server),
        ),
    ],
    [
      'alg "none" with a signature part',
      /algorithm none is not accepted/,
      async () =>
        unsigned(
          { alg: 'none', typ: 'at+jwt', kid: server.services.keyStore.activeKid('RS256') },
          accessClaims(server),
          'AAAA',
        ),
    ],
    [
      'HS256 signed with the public key (key confusion)',
      /algorithm HS256 is not accepted/,
      async () => {
        const { kid, publicJwk } = await activePrivateKey(server);
        const pem = await exportSPKI(
          (await importJWK(publicJwk, 'RS256', { extractable: true })) as KeyObject,
        );
        return signWith(
          new TextEncoder().encode(pem),
          { alg: 'HS256', typ: 'at+jwt', kid },
          accessClaims(server),
        );
      },
    ],
    [
      'HS256 signed with the public key DER (key confusion)',
      /algorithm HS256 is not accepted/,
      async () => {
        const { kid, publicJwk } = await activePrivateKey(server);
        const der = createPublicKey({ key: publicJwk, format: 'jwk' }).export({
          type: 'spki',
          format: 'der',
        });
        return signWith(
          new Uint8Array(der),
          { alg: 'HS256', typ: 'at+jwt', kid },
          accessClaims(server),
        );
      },
    ],
    [
      'an unknown kid',
      /does not publish/,
      async () =>
        signWith(
          (await attackerKey()).privateKey,
          { alg: 'RS256', typ: 'at+jwt', kid: 'attacker-key' },
          accessClaims(server),
        ),
    ],
    [
      'no kid',
      /names no key/,
      async () =>
        signWith(
          (await activePrivateKey(server)).key,
          { alg: 'RS256', typ: 'at+jwt' },
          accessClaims(server),
        ),
    ],
    ...(['jku', 'x5u'] as const).map((h): [string, RegExp, () => Promise<string>] => [
      `a "${h}" header (real key, attacker URL)`,
      new RegExp(`carries "${h}"`),
      async () => {
        const { kid, key } = await activePrivateKey(server);
        return signWith(
          key,
          { alg: 'RS256', typ: 'at+jwt', kid, [h]: 'https://attacker.example/keys' },
          accessClaims(server),
        );
      },
    ]),
    [
      'an embedded "jwk" header with the attacker\'s key',
      /carries "jwk"/,
      async () => {
        const attacker = await attackerKey();
        return signWith(
          attacker.privateKey,
          {
            alg: 'RS256',
            typ: 'at+jwt',
            kid: server.services.keyStore.activeKid('RS256'),
            jwk: attacker.publicJwk,
          },
          accessClaims(server),
        );
      },
    ],
    [
      'an "x5c" header',
      /carries "x5c"/,
      async () => {
        const { kid, key } = await activePrivateKey(server);
        return signWith(
          key,
          { alg: 'RS256', typ: 'at+jwt', kid, x5c: ['MIIB'] },
          accessClaims(server),
        );
      },
    ],
    [
      'a "crit" header',
      /carries "crit"/,
      async () => {
        const { kid, key } = await activePrivateKey(server);
        return signRawRs256(
          key,
          {
            alg: 'RS256',
            typ: 'at+jwt',
            kid,
            crit: ['urn:example:must-understand'],
            'urn:example:must-understand': true,
          },
          accessClaims(server),
        );
      },
    ],
    [
      'a tampered payload (roles and scope raised, signature kept)',
      /signature is invalid/,
      async () => {
        const [h, , s] = (await mint(server, { scope: 'profile' })).split('.');
        return `${h}.${base64url.encode(JSON.stringify(accessClaims(server, { scope: 'api admin', roles: ['admin'] })))}.${s}`;
      },
    ],
    [
      'an ES256 token whose header claims RS256 (alg swap)',
      /signature is invalid/,
      async () => {
        const [, p, s] = (await mint(server, {}, { alg: 'ES256' })).split('.');
        return `${base64url.encode(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: server.services.keyStore.activeKid('RS256') }))}.${p}.${s}`;
      },
    ],
    [
      'a token whose kid is an ES256 key but alg RS256',
      /does not match its key/,
      async () => {
        const { key } = await activePrivateKey(server, 'RS256');
        return signWith(
          key,
          { alg: 'RS256', typ: 'at+jwt', kid: server.services.keyStore.activeKid('ES256') },
          accessClaims(server),
        );
      },
    ],
    [
      'expired (beyond the clock tolerance)',
      /has expired/,
      () =>
        mint(server, {
          iat: server.clock.epochSeconds() - 700,
          exp: server.clock.epochSeconds() - 100,
        }),
    ],
    [
      'nbf in the future',
      /not valid yet/,
      () => mint(server, { nbf: server.clock.epochSeconds() + 300 }),
    ],
    [
      'iat in the future',
      /issued in the future/,
      () =>
        mint(server, {
          iat: server.clock.epochSeconds() + 300,
          exp: server.clock.epochSeconds() + 900,
        }),
    ],
    ['a wrong issuer', /different issuer/, () => mint(server, { iss: 'https://evil.example' })],
    [
      'an issuer differing only by a trailing slash',
      /different issuer/,
      () => mint(server, { iss: `${server.config.issuer}/` }),
    ],
    [
      'a wrong audience',
      /not meant for this audience/,
      () => mint(server, { aud: 'https://other-api.example' }),
    ],
    ['no audience', /"aud"/, () => mint(server, { aud: undefined })],
    ['no exp', /"exp"/, () => mint(server, { exp: undefined })],
    [
      'an ID token (typ JWT) presented as an access token',
      /token type is JWT, expected at\+jwt/,
      () => mint(server, { aud: AUDIENCE, nonce: 'n' }, { typ: 'JWT' }),
    ],
    [
      'no typ at all',
      /token type is missing/,
      async () => {
        const { kid, key } = await activePrivateKey(server);
        return signWith(key, { alg: 'RS256', kid }, accessClaims(server));
      },
    ],
    ['not a JWT', /not a signed JWT/, async () => 'not-a-jwt'],
    ['a JWE-shaped token (five parts)', /not a signed JWT/, async () => 'a.b.c.d.e'],
  ];

  it.each(attacks)('%s', async (_name, reason, forge) => {
    const res = await call(api, '/items', await forge());
    expect(res.status).toBe(401);
    const challenge = challengeOf(res);
    expect(challenge).toMatchObject({ realm: AUDIENCE, error: 'invalid_token' });
    expect(challenge.error_description).toEqual(expect.any(String));
    // The description proves the token failed for the reason under test, not by accident.
    expect(await res.json()).toEqual({
      error: 'invalid_token',
      error_description: expect.stringMatching(reason),
    });
  });
});
