/**
 * Signed authorization requests (RFC 9101) at /authorize and inside pushed requests
 * (RFC 9126 §3), made by openid-client v6 and oauth4webapi, and by hand (jose) for each check a
 * request object must pass; every refusal is invalid_request_object.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { createClientFromMetadata } from '../../../src/admin/clients';
import type { UserRecord } from '../../../src/accounts/user-storage';
import {
  authorizeUrl,
  exchangeCode,
  HttpBrowser,
  makeClient,
  makeUser,
  pkcePair,
  readPage,
  REDIRECT,
  signIn,
  type FlowClient,
} from '../../support/code-flow';
import { basic } from '../../support/fixtures';
import { startTestServer, type TestServer } from '../../support/server';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;
let key: { privateKey: CryptoKey; jwk: JWK };
let otherKey: CryptoKey;

async function keyPair(alg: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  key = await keyPair('ES256', 'rp-1');
  otherKey = (await generateKeyPair('ES256')).privateKey;
  rp = await createClientFromMetadata(server.services, {
    client_name: 'Signed requests',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile email offline_access api',
    first_party: true,
    jwks: { keys: [key.jwk] },
  });
});
afterAll(async () => {
  await server?.stop();
});

/** A request object for `rp`, valid unless `changes` say otherwise. */
async function requestObject(
  claims: JWTPayload = {},
  options: { alg?: string; typ?: string | null; key?: CryptoKey; omit?: string[] } = {},
): Promise<{ jwt: string; verifier: string }> {
  const pkce = pkcePair();
  const now = Math.floor(server.clock.now().getTime() / 1000);
  const payload: JWTPayload = {
    iss: rp.client.id,
    aud: server.config.issuer,
    client_id: rp.client.id,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid email',
    state: 'signed-state',
    nonce: 'signed-nonce',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: randomUUID(),
    ...claims,
  };
  for (const name of options.omit ?? []) delete payload[name];
  const header: Record<string, string> = { alg: options.alg ?? 'ES256', kid: 'rp-1' };
  if (options.typ !== null) header.typ = options.typ ?? 'oauth-authz-req+jwt';
  const jwt = await new SignJWT(payload)
    .setProtectedHeader(header as { alg: string })
    .sign(options.key ?? key.privateKey);
  return { jwt, verifier: pkce.verifier };
}

function unsigned(claims: JWTPayload): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${part(claims)}.`;
}

async function authorizeWith(request: string, extra: Record<string, string> = {}) {
  return readPage(
    await new HttpBrowser().get(
      authorizeUrl(server, { client_id: rp.client.id, request, ...extra }),
    ),
  );
}

it('openid-client: buildAuthorizationUrlWithJAR, then the code flow', async () => {
  const config = await oidc.discovery(
    new URL(server.config.issuer),
    rp.client.id,
    rp.secret!,
    oidc.ClientSecretBasic(rp.secret!),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  expect(config.serverMetadata()).toMatchObject({
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = await oidc.buildAuthorizationUrlWithJAR(
    config,
    {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'jar-state',
    },
    { key: key.privateKey, kid: 'rp-1' },
  );
  const callback = await signIn(new HttpBrowser(), server, url.toString(), user.email);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: 'jar-state',
  });
  expect(tokens.scope).toBe('openid email');
});

it('openid-client: a signed request pushed to /par (JAR + PAR)', async () => {
  const config = await oidc.discovery(
    new URL(server.config.issuer),
    rp.client.id,
    rp.secret!,
    oidc.ClientSecretBasic(rp.secret!),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
  const verifier = oidc.randomPKCECodeVerifier();
  const { searchParams } = await oidc.buildAuthorizationUrlWithJAR(
    config,
    {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    },
    { key: key.privateKey, kid: 'rp-1' },
  );
  const url = await oidc.buildAuthorizationUrlWithPAR(config, searchParams);
  const callback = await signIn(new HttpBrowser(), server, url.toString(), user.email);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
  });
  expect(tokens.access_token).toBeDefined();
});

it('oauth4webapi: issueRequestObject to /authorize', async () => {
  const as = await oauth.processDiscoveryResponse(
    new URL(server.config.issuer),
    await oauth.discoveryRequest(new URL(server.config.issuer), {
      [oauth.allowInsecureRequests]: true,
    }),
  );
  const client: oauth.Client = { client_id: rp.client.id };
  const verifier = oauth.generateRandomCodeVerifier();
  const request = await oauth.issueRequestObject(
    as,
    client,
    {
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    },
    { key: key.privateKey, kid: 'rp-1' },
  );
  const callback = await signIn(
    new HttpBrowser(),
    server,
    authorizeUrl(server, { client_id: rp.client.id, request }),
    user.email,
  );
  const { status } = await exchangeCode(server, rp, {
    code: callback.searchParams.get('code')!,
    code_verifier: verifier,
  });
  expect(status).toBe(200);
});

it('uses only the parameters inside the object (RFC 9101 §6.3)', async () => {
  const { jwt, verifier } = await requestObject();
  const callback = await signIn(
    new HttpBrowser(),
    server,
    authorizeUrl(server, {
      client_id: rp.client.id,
      request: jwt,
      scope: 'openid api',
      state: 'url-state',
      redirect_uri: 'https://evil.example/cb',
    }),
    user.email,
  );
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  expect(callback.searchParams.get('state')).toBe('signed-state');
  const { body } = await exchangeCode(server, rp, {
    code: callback.searchParams.get('code')!,
    code_verifier: verifier,
  });
  expect(body.scope).toBe('openid email');
});

describe('refuses with invalid_request_object (to the registered redirect URI in the URL)', () => {
  const cases: [string, () => Promise<string>][] = [
    ['an unsigned object (alg none)', async () => unsigned({ iss: 'x', aud: 'y' })],
    [
      'an object signed with HS256',
      async () =>
        new SignJWT({ iss: rp.client.id, aud: server.config.issuer, exp: 9_999_999_999 })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!')),
    ],
    [
      'a key the client did not register',
      async () => (await requestObject({}, { key: otherKey })).jwt,
    ],
    ['another audience', async () => (await requestObject({ aud: 'https://other.example' })).jwt],
    ['another issuer', async () => (await requestObject({ iss: 'someone-else' })).jwt],
    [
      'another client_id inside',
      async () => (await requestObject({ client_id: 'someone-else' })).jwt,
    ],
    [
      'an expired object',
      async () => {
        const now = Math.floor(server.clock.now().getTime() / 1000);
        return (await requestObject({ iat: now - 900, nbf: now - 900, exp: now - 600 })).jwt;
      },
    ],
    ['no exp', async () => (await requestObject({}, { omit: ['exp'] })).jwt],
    [
      'an exp more than an hour ahead',
      async () => {
        const now = Math.floor(server.clock.now().getTime() / 1000);
        return (await requestObject({ exp: now + 7200 })).jwt;
      },
    ],
    [
      'a nbf in the future',
      async () => {
        const now = Math.floor(server.clock.now().getTime() / 1000);
        return (await requestObject({ nbf: now + 600 })).jwt;
      },
    ],
    [
      'a typ of another kind of JWT',
      async () => (await requestObject({}, { typ: 'dpop+jwt' })).jwt,
    ],
    ['a request_uri inside', async () => (await requestObject({ request_uri: 'urn:x' })).jwt],
    ['a claim that is not a string', async () => (await requestObject({ scope: ['openid'] })).jwt],
    ['an encrypted object (JWE)', async () => 'a.b.c.d.e'],
    ['something that is not a JWT', async () => 'not-a-jwt'],
  ];
  it.each(cases)('%s', async (_name, make) => {
    const page = await authorizeWith(await make(), { redirect_uri: REDIRECT, state: 'outer' });
    expect(page.kind).toBe('redirect');
    if (page.kind !== 'redirect') return;
    expect(page.location.origin + page.location.pathname).toBe(REDIRECT);
    expect(page.location.searchParams.get('error')).toBe('invalid_request_object');
    expect(page.location.searchParams.get('state')).toBe('outer');
  });

  it('a replayed object (its jti is single use)', async () => {
    const { jwt } = await requestObject();
    expect((await authorizeWith(jwt)).kind).toBe('login');
    const again = await authorizeWith(jwt, { redirect_uri: REDIRECT });
    expect(again.kind === 'redirect' && again.location.searchParams.get('error')).toBe(
      'invalid_request_object',
    );
  });

  it('without a registered redirect URI in the URL: a page, never a redirect', async () => {
    const page = await authorizeWith(unsigned({}), { redirect_uri: 'https://evil.example/cb' });
    expect(page).toMatchObject({ kind: 'error', status: 400 });
  });
});

it('at /par a bad request object is a JSON invalid_request_object', async () => {
  const form = new URLSearchParams({ request: unsigned({ iss: rp.client.id }) });
  const res = await fetch(`${server.url}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rp) },
    body: form.toString(),
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: 'invalid_request_object' });
});

describe('a client registered with require_signed_request_object and an algorithm', () => {
  let strict: FlowClient;
  let rsa: { privateKey: KeyObject; jwk: JWK };
  beforeAll(async () => {
    // A KeyObject, not a CryptoKey: it signs with any RSA algorithm, as an attacker's would.
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    rsa = {
      privateKey: pair.privateKey,
      jwk: { ...(await exportJWK(pair.publicKey)), kid: 'strict-1', alg: 'PS256', use: 'sig' },
    };
    strict = await createClientFromMetadata(server.services, {
      client_name: 'Strict signer',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      scope: 'openid',
      jwks: { keys: [rsa.jwk] },
      require_signed_request_object: true,
      request_object_signing_alg: 'PS256',
    });
  });

  async function signedFor(alg: string, privateKey: KeyObject): Promise<string> {
    const now = Math.floor(server.clock.now().getTime() / 1000);
    return new SignJWT({
      iss: strict.client.id,
      aud: server.config.issuer,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      exp: now + 60,
    })
      .setProtectedHeader({ alg, kid: 'strict-1' })
      .sign(privateKey);
  }

  it('refuses plain parameters with invalid_request', async () => {
    const page = await readPage(
      await new HttpBrowser().get(
        authorizeUrl(server, {
          client_id: strict.client.id,
          response_type: 'code',
          redirect_uri: REDIRECT,
          scope: 'openid',
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
        }),
      ),
    );
    expect(page.kind === 'redirect' && page.location.searchParams.get('error')).toBe(
      'invalid_request',
    );
  });

  it('accepts its pinned algorithm and refuses another one it could verify', async () => {
    const ok = await readPage(
      await new HttpBrowser().get(
        authorizeUrl(server, {
          client_id: strict.client.id,
          request: await signedFor('PS256', rsa.privateKey),
        }),
      ),
    );
    expect(ok.kind).toBe('login');
    const rs256 = await readPage(
      await new HttpBrowser().get(
        authorizeUrl(server, {
          client_id: strict.client.id,
          redirect_uri: REDIRECT,
          request: await signedFor('RS256', rsa.privateKey),
        }),
      ),
    );
    expect(rs256.kind === 'redirect' && rs256.location.searchParams.get('error')).toBe(
      'invalid_request_object',
    );
  });
});

it('a client without keys cannot send request objects', async () => {
  const keyless = await makeClient(server);
  const page = await readPage(
    await new HttpBrowser().get(
      authorizeUrl(server, {
        client_id: keyless.client.id,
        redirect_uri: REDIRECT,
        request: (await requestObject({ iss: keyless.client.id, client_id: keyless.client.id }))
          .jwt,
      }),
    ),
  );
  expect(page.kind === 'redirect' && page.location.searchParams.get('error')).toBe(
    'invalid_request_object',
  );
});
