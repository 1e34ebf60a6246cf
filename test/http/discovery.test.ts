import { buildServerMetadata } from '../../src/oauth/metadata';
import { useTestServer } from '../support/server';

const server = useTestServer({ env: { SIGNING_ALGS: 'ES256,RS256' } });

const CLIENT_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256'];
const PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

describe('discovery (RFC 8414, OIDC Discovery 1.0)', () => {
  it.each(PATHS)('%s is public, briefly cacheable JSON readable cross-origin', async (path) => {
    const res = await fetch(`${server().url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('both paths serve the same document', async () => {
    const [a, b] = await Promise.all(
      PATHS.map(async (p) => (await fetch(`${server().url}${p}`)).json()),
    );
    expect(a).toEqual(b);
  });

  it('issuer is identical to the configured issuer and every endpoint is an absolute URL under it', async () => {
    const doc = (await (await fetch(`${server().url}${PATHS[0]}`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc.issuer).toBe(server().config.issuer);
    const endpoints = [
      'token_endpoint',
      'jwks_uri',
      'userinfo_endpoint',
      'revocation_endpoint',
      'introspection_endpoint',
    ];
    for (const key of endpoints) {
      const value = doc[key] as string;
      expect(new URL(value).href).toBe(value);
      expect(value.startsWith(`${server().config.issuer}/`)).toBe(true);
    }
    expect(doc.jwks_uri).toBe(`${server().config.issuer}/.well-known/jwks.json`);
  });

  it('advertises only what is implemented', async () => {
    const doc = (await (await fetch(`${server().url}${PATHS[0]}`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({
      grant_types_supported: [
        'password',
        'refresh_token',
        'client_credentials',
        'authorization_code',
        'urn:ietf:params:oauth:grant-type:token-exchange',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'none',
        'client_secret_jwt',
        'private_key_jwt',
      ],
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'none',
        'client_secret_jwt',
        'private_key_jwt',
      ],
      introspection_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'client_secret_jwt',
        'private_key_jwt',
      ],
      token_endpoint_auth_signing_alg_values_supported: CLIENT_ALGS,
      revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ALGS,
      introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ALGS,
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      subject_types_supported: ['public'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      request_parameter_supported: true,
      request_object_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
      request_uri_parameter_supported: false,
      claims_parameter_supported: false,
      // OpenID Connect Back-Channel Logout 1.0 §2.1.
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      // Issue 20's list: exactly what is on (RFC 9449 §5.1, RFC 9126 §5, RFC 9207 §3).
      dpop_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      pushed_authorization_request_endpoint: `${server().config.issuer}/par`,
      require_pushed_authorization_requests: false,
      authorization_response_iss_parameter_supported: true,
      device_authorization_endpoint: `${server().config.issuer}/device/authorization`,
    });
    // Front-channel logout is not offered.
    expect(doc).not.toHaveProperty('frontchannel_logout_supported');
    expect(doc.claims_supported).toEqual(
      expect.arrayContaining([
        'sub',
        'iss',
        'sid',
        'email',
        'email_verified',
        'name',
        'updated_at',
      ]),
    );
    // Not implemented by this server: must not be advertised.
    for (const absent of ['registration_endpoint', 'mtls_endpoint_aliases']) {
      expect(doc).not.toHaveProperty(absent);
    }
    expect(doc.id_token_signing_alg_values_supported).not.toContain('none');
    expect(doc.token_endpoint_auth_signing_alg_values_supported).not.toContain('none');
  });

  it('every endpoint it advertises is served', async () => {
    const doc = (await (await fetch(`${server().url}${PATHS[0]}`)).json()) as Record<
      string,
      unknown
    >;
    const endpoints = Object.entries(doc).filter(
      ([k]) => k.endsWith('_endpoint') || k === 'jwks_uri',
    );
    expect(endpoints.length).toBeGreaterThanOrEqual(6);
    for (const [key, url] of endpoints) {
      const method = [
        'token_endpoint',
        'revocation_endpoint',
        'introspection_endpoint',
        'pushed_authorization_request_endpoint',
        'device_authorization_endpoint',
      ].includes(key)
        ? 'POST'
        : 'GET';
      const res = await fetch(url as string, { method, redirect: 'manual' });
      expect([key, res.status]).not.toEqual([key, 404]);
      expect([key, res.status]).not.toEqual([key, 405]);
    }
  });
});

describe('buildServerMetadata extensions', () => {
  const config = { issuer: 'https://id.example.com', SIGNING_ALGS: ['RS256' as const] };

  it('sets new fields and appends to lists without duplicates', () => {
    const doc = buildServerMetadata(config, [
      {
        set: {
          authorization_endpoint: 'https://id.example.com/authorize',
          response_types_supported: ['code'],
        },
        append: { grant_types_supported: ['authorization_code', 'refresh_token'] },
      },
    ]);
    expect(doc.authorization_endpoint).toBe('https://id.example.com/authorize');
    expect(doc.response_types_supported).toEqual(['code']);
    expect(doc.grant_types_supported).toEqual([
      'password',
      'refresh_token',
      'client_credentials',
      'authorization_code',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(buildServerMetadata(config))).toBe(true);
  });
});
