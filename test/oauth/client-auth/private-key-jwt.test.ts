/**
 * private_key_jwt (RFC 7523 §2.2, OIDC Core §9) at /token, /introspect and /revoke: openid-client
 * v6 signs with RS256, PS256, ES256 and Ed25519/EdDSA keys registered inline or published at a
 * jwks_uri on 127.0.0.1; hand-made assertions then break one rule each and must get 401
 * invalid_client (400 invalid_request for a request using two methods).
 */
import * as oidc from 'openid-client';
import { createClientFromMetadata } from '../../../src/admin/clients';
import type { ClientRecord } from '../../../src/clients/client-storage';
import { JWT_BEARER_ASSERTION_TYPE } from '../../../src/oauth/client-auth/client-assertion';
import { postWithAssertion, signAssertion, unsignedAssertion } from '../../support/assertions';
import { basicAuth, post } from '../../support/fixtures';
import {
  clientKey,
  startJwksHost,
  type JwksHost,
  type TestClientKey,
  type TestKeyAlg,
} from '../../support/jwks-host';
import { useTestServer } from '../../support/server';

const server = useTestServer({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
let host: JwksHost;
beforeAll(async () => {
  host = await startJwksHost();
});
afterAll(() => host.close());

const service = {
  grant_types: ['client_credentials'],
  scope: 'api:read',
  audiences: ['https://api.example'],
};
const CLIENT_CREDENTIALS = { grant_type: 'client_credentials', scope: 'api:read' };

async function keyClient(registration: Record<string, unknown>): Promise<ClientRecord> {
  const { client, secret } = await createClientFromMetadata(server().services, {
    client_name: 'key service',
    token_endpoint_auth_method: 'private_key_jwt',
    ...service,
    ...registration,
  });
  expect(secret).toBeNull();
  expect(client.secretHash).toBeNull();
  return client;
}

const remapEd25519: oidc.ModifyAssertionOptions = {
  [oidc.modifyAssertion]: (header) => {
    if (header.alg === 'Ed25519') header.alg = 'EdDSA';
  },
};

function relyingParty(clientId: string, key: TestClientKey): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(server().config.issuer),
    clientId,
    undefined,
    oidc.PrivateKeyJwt(
      { key: key.privateKey, kid: key.kid },
      key.alg === 'EdDSA' ? remapEd25519 : undefined,
    ),
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** client_credentials at /token, then introspection and revocation, each with a new assertion. */
async function tokenIntrospectRevoke(config: oidc.Configuration): Promise<void> {
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api:read' });
  expect(tokens.token_type).toMatch(/^bearer$/i);
  const live = await oidc.tokenIntrospection(config, tokens.access_token);
  expect(live).toMatchObject({ active: true, client_id: config.clientMetadata().client_id });
  await oidc.tokenRevocation(config, tokens.access_token);
  expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
}

const ALGS: TestKeyAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'];

describe('openid-client v6 with private_key_jwt', () => {
  it('discovery lists the method and its algorithms, never none', async () => {
    const config = await oidc.discovery(
      new URL(server().config.issuer),
      'x',
      undefined,
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const meta = config.serverMetadata();
    for (const field of [
      'token_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported',
      'introspection_endpoint_auth_methods_supported',
    ] as const)
      expect(meta[field]).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_jwt']));
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual([
      'RS256',
      'PS256',
      'ES256',
      'EdDSA',
      'Ed25519',
      'HS256',
    ]);
    expect(meta.revocation_endpoint_auth_signing_alg_values_supported).not.toContain('none');
    expect(meta.introspection_endpoint_auth_signing_alg_values_supported).not.toContain('none');
  });

  it.each(ALGS)('%s key registered inline: /token, /introspect, /revoke', async (alg) => {
    const key = await clientKey(alg);
    const client = await keyClient({ jwks: { keys: [key.publicJwk] } });
    await tokenIntrospectRevoke(await relyingParty(client.id, key));
  });

  it.each(ALGS)('%s key published at a jwks_uri: /token, /introspect, /revoke', async (alg) => {
    const key = await clientKey(alg);
    const other = await clientKey('RS256');
    host.jwks = { keys: [other.publicJwk, key.publicJwk] };
    const client = await keyClient({ jwks_uri: host.jwksUri });
    await tokenIntrospectRevoke(await relyingParty(client.id, key));
  });

  it('the pinned token_endpoint_auth_signing_alg is the only one accepted', async () => {
    const ec = await clientKey('ES256');
    const rsa = await clientKey('RS256');
    const client = await keyClient({
      jwks: { keys: [ec.publicJwk, rsa.publicJwk] },
      token_endpoint_auth_signing_alg: 'ES256',
    });
    await tokenIntrospectRevoke(await relyingParty(client.id, ec));
    await expect(
      oidc.clientCredentialsGrant(await relyingParty(client.id, rsa), { scope: 'api:read' }),
    ).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('assertions that break a rule', () => {
  let key: TestClientKey;
  let client: ClientRecord;
  beforeAll(async () => {
    key = await clientKey('ES256', 'es-1');
    client = await keyClient({ jwks: { keys: [key.publicJwk] } });
  });

  const sign = (options: Parameters<typeof signAssertion>[4] = {}) =>
    signAssertion(server(), client.id, key.privateKey, 'ES256', {
      header: { kid: key.kid },
      ...options,
    });

  async function refused(assertion: string, path = '/token', status = 401, extra = {}) {
    const params = path === '/token' ? CLIENT_CREDENTIALS : { token: 'whatever' };
    const res = await postWithAssertion(server(), path, assertion, params, extra);
    expect(res.status).toBe(status);
    return res.body;
  }

  it('a valid assertion works once; its jti replayed is refused', async () => {
    const assertion = await sign();
    expect(
      (await postWithAssertion(server(), '/token', assertion, CLIENT_CREDENTIALS)).status,
    ).toBe(200);
    expect(await refused(assertion)).toEqual({
      error: 'invalid_client',
      error_description:
        'Client authentication failed: the client_assertion jti has already been used',
    });
  });

  it('a jti is single-use across endpoints too', async () => {
    const assertion = await sign({ claims: { aud: `${server().config.issuer}/token` } });
    expect((await postWithAssertion(server(), '/revoke', assertion, { token: 'x' })).status).toBe(
      200,
    );
    expect((await refused(assertion, '/introspect')).error_description).toMatch(
      /jti has already been used/,
    );
  });

  it.each([
    ['expired', { exp: -60 }, /the client_assertion has expired/],
    ['valid too long', { exp: 3600 }, /exp is too far ahead \(at most 300 seconds\)/],
    ['without exp', { exp: undefined }, /the client_assertion has no exp/],
    ['without jti', { jti: undefined }, /the client_assertion has no jti/],
    ['not valid yet', { nbf: 600 }, /not valid yet \(nbf\)/],
    ['issued in the future', { iat: 600 }, /iat is in the future/],
  ])('%s is refused', async (_name, offsets, message) => {
    const now = server().clock.epochSeconds();
    const claims = Object.fromEntries(
      Object.entries(offsets).map(([k, v]) => [k, v === undefined ? undefined : now + v]),
    );
    const body = await refused(await sign({ claims }));
    expect(body).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringMatching(message),
    });
  });

  it.each([
    ['another server', 'https://other.example'],
    ['another endpoint of this server', '/userinfo'],
  ])('aud naming %s is refused', async (_name, aud) => {
    const value = aud.startsWith('/') ? `${server().config.issuer}${aud}` : aud;
    const body = await refused(await sign({ claims: { aud: value } }));
    expect(body.error_description).toMatch(
      /aud must be the issuer, the token endpoint or this endpoint/,
    );
  });

  it.each([
    ['/introspect', '/introspect'],
    ['/revoke', '/revoke'],
    ['/introspect', '/token'],
  ])('at %s, aud may name %s', async (path, audPath) => {
    const assertion = await sign({ claims: { aud: [`${server().config.issuer}${audPath}`] } });
    const res = await postWithAssertion(server(), path, assertion, { token: 'x' });
    expect(res.status).toBe(200);
  });

  it.each([
    ['iss is not the client', { iss: 'someone-else' }, /iss and sub must both be the client_id/],
    ['sub is not the client', { sub: 'someone-else' }, /iss and sub must both be the client_id/],
    ['no sub', { sub: undefined, iss: undefined }, /iss and sub must both be the client_id/],
  ])('%s is refused', async (_name, claims, message) => {
    expect((await refused(await sign({ claims }))).error_description).toMatch(message);
  });

  it('an unknown client is refused', async () => {
    const assertion = await sign({ claims: { iss: 'nobody', sub: 'nobody' } });
    expect((await refused(assertion)).error_description).toBe('Client authentication failed');
  });

  it('a client_id parameter that is not the sub is refused', async () => {
    const res = await postWithAssertion(server(), '/token', await sign(), {
      ...CLIENT_CREDENTIALS,
      client_id: 'another-client',
    });
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/client_id does not match the client_assertion sub/);
  });

  it('alg none is refused', async () => {
    const body = await refused(unsignedAssertion(server(), client.id));
    expect(body).toEqual({
      error: 'invalid_client',
      error_description:
        'Client authentication failed: the client_assertion alg "none" is not allowed for this client (RS256, PS256, ES256, EdDSA, Ed25519)',
    });
  });

  it('HS256 against a private_key_jwt client is refused', async () => {
    const assertion = await signAssertion(
      server(),
      client.id,
      new TextEncoder().encode('x'.repeat(32)),
      'HS256',
    );
    expect((await refused(assertion)).error_description).toBe(
      'Client authentication failed: this client is registered for private_key_jwt, not client_secret_jwt',
    );
  });

  it('an unknown kid is refused', async () => {
    const body = await refused(await sign({ header: { kid: 'not-registered' } }));
    expect(body.error_description).toMatch(
      /no registered key has kid "not-registered" for alg ES256/,
    );
  });

  it('a signature by another key under the registered kid is refused', async () => {
    const impostor = await clientKey('ES256');
    const assertion = await signAssertion(server(), client.id, impostor.privateKey, 'ES256', {
      header: { kid: key.kid },
    });
    expect((await refused(assertion)).error_description).toMatch(/signature is invalid/);
  });

  it('a key of another type under the registered kid is refused', async () => {
    const rsa = await clientKey('RS256');
    const assertion = await signAssertion(server(), client.id, rsa.privateKey, 'RS256', {
      header: { kid: key.kid },
    });
    expect((await refused(assertion)).error_description).toMatch(
      /no registered key has kid "es-1" for alg RS256/,
    );
  });

  it.each([['a Basic header', { headers: { authorization: basicAuth('a', 'b') } }]])(
    'an assertion with %s is invalid_request',
    async (_name, extra) => {
      const body = await refused(await sign(), '/token', 400, extra);
      expect(body).toEqual({
        error: 'invalid_request',
        error_description:
          'Use exactly one client authentication method (client_assertion, not also a Basic header or client_secret)',
      });
    },
  );

  it('an assertion with a client_secret is invalid_request', async () => {
    const res = await postWithAssertion(server(), '/token', await sign(), {
      ...CLIENT_CREDENTIALS,
      client_secret: 'also-this',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('client_assertion without client_assertion_type is invalid_request', async () => {
    const res = await post(server(), '/token', {
      ...CLIENT_CREDENTIALS,
      client_assertion: await sign(),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('another client_assertion_type is refused', async () => {
    const res = await post(server(), '/token', {
      ...CLIENT_CREDENTIALS,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      client_assertion: await sign(),
    });
    expect(res.status).toBe(401);
    expect(res.body.error_description).toBe(
      `Client authentication failed: client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`,
    );
  });

  it('garbage is refused', async () => {
    expect((await refused('not.a.jwt')).error_description).toMatch(/is not a signed JWT/);
  });

  it('a private_key_jwt client cannot authenticate without its assertion', async () => {
    const alone = await post(server(), '/token', { ...CLIENT_CREDENTIALS, client_id: client.id });
    expect(alone.status).toBe(401);
    const guessed = await post(server(), '/token', CLIENT_CREDENTIALS, {
      headers: { authorization: basicAuth(client.id, '') },
    });
    expect(guessed.status).toBe(401);
    expect(guessed.body.error).toBe('invalid_client');
  });

  it('a disabled client is refused', async () => {
    const other = await keyClient({ jwks: { keys: [key.publicJwk] } });
    await server().services.clients.setDisabled(other.id, true);
    server().services.clientLookup.invalidate(other.id);
    const assertion = await signAssertion(server(), other.id, key.privateKey, 'ES256', {
      header: { kid: key.kid },
    });
    expect(await refused(assertion)).toEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed',
    });
  });
});
