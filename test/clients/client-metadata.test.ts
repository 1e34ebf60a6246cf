// The client-metadata document (clients/client-metadata.ts): RFC 7591 names and defaults, the
// rules between fields, and refusals by name for what this server does not support.
import {
  clientMetadataSchema,
  metadataOfClient,
  settingsFromMetadata,
  type ClientMetadataInput,
} from '../../src/clients/client-metadata';
import type { ClientRecord } from '../../src/clients/client-storage';

const web: ClientMetadataInput = {
  client_name: 'Web app',
  redirect_uris: ['https://app.example/cb'],
};

function problems(doc: Record<string, unknown>): string[] {
  const parsed = clientMetadataSchema.safeParse(doc);
  if (parsed.success) throw new Error('the document was accepted');
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function record(doc: ClientMetadataInput): ClientRecord {
  const now = new Date('2026-12-04T00:00:00Z');
  return {
    ...settingsFromMetadata(clientMetadataSchema.parse(doc)),
    id: 'client-1',
    secretHash: null,
    secretCiphertext: null,
    registrationTokenHash: null,
    registrant: null,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
}

it("takes RFC 7591's defaults: authorization_code, client_secret_basic", () => {
  const settings = settingsFromMetadata(clientMetadataSchema.parse(web));
  expect(settings).toMatchObject({
    name: 'Web app',
    isPublic: false,
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['authorization_code'],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    firstParty: false,
    signingAlg: null,
    clientUri: null,
  });
});

it('reads every supported field', () => {
  const settings = settingsFromMetadata(
    clientMetadataSchema.parse({
      ...web,
      post_logout_redirect_uris: ['https://app.example/bye'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid api:read',
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
      client_uri: 'https://app.example',
      logo_uri: 'https://app.example/logo.png',
      first_party: true,
      audiences: ['https://api.example'],
      access_token_ttl: 300,
      id_token_ttl: 600,
      refresh_token_ttl: 86400,
      refresh_token_idle_ttl: 3600,
      dpop_bound_access_tokens: true,
      backchannel_logout_uri: 'https://app.example/backchannel-logout?tenant=1',
      backchannel_logout_session_required: true,
    }),
  );
  expect(settings).toEqual({
    name: 'Web app',
    isPublic: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    firstParty: true,
    redirectUris: ['https://app.example/cb'],
    postLogoutRedirectUris: ['https://app.example/bye'],
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'api:read'],
    audiences: ['https://api.example'],
    signingAlg: 'ES256',
    accessTokenTtl: 300,
    idTokenTtl: 600,
    refreshTokenTtl: 86400,
    refreshTokenIdleTtl: 3600,
    clientUri: 'https://app.example',
    logoUri: 'https://app.example/logo.png',
    jwks: null,
    jwksUri: null,
    tokenEndpointAuthSigningAlg: null,
    dpopBoundAccessTokens: true,
    requirePushedAuthorizationRequests: false,
    requireSignedRequestObject: false,
    requestObjectSigningAlg: null,
    tokenExchange: null,
    backchannelLogoutUri: 'https://app.example/backchannel-logout?tenant=1',
    backchannelLogoutSessionRequired: true,
  });
});

it('backchannel_logout_uri: none by default; printed back with its sid requirement', () => {
  expect(settingsFromMetadata(clientMetadataSchema.parse(web))).toMatchObject({
    backchannelLogoutUri: null,
    backchannelLogoutSessionRequired: false,
  });
  expect(metadataOfClient(record(web))).not.toHaveProperty('backchannel_logout_uri');
  const doc = { ...web, backchannel_logout_uri: 'http://127.0.0.1:4000/bc' };
  const printed = metadataOfClient(record(doc));
  expect(printed).toMatchObject({
    backchannel_logout_uri: 'http://127.0.0.1:4000/bc',
    backchannel_logout_session_required: false,
  });
  const { client_id: _id, client_id_issued_at: _at, ...again } = printed;
  expect(record(again as ClientMetadataInput)).toEqual(record(doc));
});

it('require_pushed_authorization_requests registers the requirement (RFC 9126 §6)', () => {
  const doc = { ...web, require_pushed_authorization_requests: true };
  const settings = settingsFromMetadata(clientMetadataSchema.parse(doc));
  expect(settings.requirePushedAuthorizationRequests).toBe(true);
  expect(metadataOfClient(record(doc)).require_pushed_authorization_requests).toBe(true);
});

it('token_endpoint_auth_method none makes a public client', () => {
  expect(
    settingsFromMetadata(
      clientMetadataSchema.parse({ ...web, token_endpoint_auth_method: 'none' }),
    ),
  ).toMatchObject({ isPublic: true, tokenEndpointAuthMethod: 'none' });
});

it('prints back what it registered, and that parses to the same registration', () => {
  const doc: ClientMetadataInput = {
    ...web,
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid offline_access',
    id_token_signed_response_alg: 'RS256',
    logo_uri: 'https://app.example/logo.png',
    access_token_ttl: 120,
    dpop_bound_access_tokens: true,
  };
  const printed = metadataOfClient(record(doc));
  expect(printed).toEqual({
    client_id: 'client-1',
    client_id_issued_at: 1796342400,
    client_name: 'Web app',
    redirect_uris: ['https://app.example/cb'],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: 'openid offline_access',
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    logo_uri: 'https://app.example/logo.png',
    first_party: false,
    audiences: [],
    access_token_ttl: 120,
    dpop_bound_access_tokens: true,
    require_pushed_authorization_requests: false,
    require_signed_request_object: false,
  });
  const { client_id: _id, client_id_issued_at: _at, ...again } = printed;
  expect(record(again as ClientMetadataInput)).toEqual(record(doc));
});

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const service: ClientMetadataInput = { client_name: 'Orders service', grant_types: [EXCHANGE] };

it('token_exchange registers the exchange policy (RFC 8693), defaults and all', () => {
  const settings = settingsFromMetadata(
    clientMetadataSchema.parse({
      ...service,
      token_exchange: { audiences: ['https://orders.example', 'billing'] },
    }),
  );
  expect(settings.grantTypes).toEqual([EXCHANGE]);
  expect(settings.tokenExchange).toEqual({
    audiences: ['https://orders.example', 'billing'],
    impersonation: false,
    subjectTokenTypes: ['urn:ietf:params:oauth:token-type:access_token'],
  });
  expect(settingsFromMetadata(clientMetadataSchema.parse(web)).tokenExchange).toBeNull();
});

it('prints the exchange policy back as it registered it', () => {
  const doc: ClientMetadataInput = {
    ...service,
    token_exchange: {
      audiences: ['https://orders.example'],
      impersonation: true,
      subject_token_types: [
        'urn:ietf:params:oauth:token-type:access_token',
        'urn:ietf:params:oauth:token-type:id_token',
      ],
    },
  };
  const printed = metadataOfClient(record(doc));
  expect(printed.token_exchange).toEqual(doc.token_exchange);
  const { client_id: _id, client_id_issued_at: _at, ...again } = printed;
  expect(record(again as ClientMetadataInput)).toEqual(record(doc));
});

it.each([
  [{ ...service }, /^token_exchange: token exchange needs a policy/],
  [
    { ...service, token_endpoint_auth_method: 'none', token_exchange: { audiences: ['a'] } },
    /^grant_types: a public client .* cannot use token exchange/,
  ],
  [
    { ...web, token_exchange: { audiences: ['https://orders.example'] } },
    /^token_exchange: applies only with urn:ietf:params:oauth:grant-type:token-exchange/,
  ],
  [{ ...service, token_exchange: { audiences: [] } }, /^token_exchange\.audiences: /],
  [{ ...service, token_exchange: { audiences: ['a b'] } }, /^token_exchange\.audiences\.0: /],
  [
    { ...service, token_exchange: { audiences: ['a'], subject_token_types: ['saml2'] } },
    /^token_exchange\.subject_token_types\.0: /,
  ],
  [
    { ...service, token_exchange: { audiences: ['a'], impersonate: true } },
    /Unrecognized key.*impersonate/,
  ],
])('refuses the exchange policy %j, naming the field', (doc, message) => {
  expect(problems(doc)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
});

it.each([
  [{ ...web, redirect_uri: 'https://app.example/cb' }, /Unrecognized key.*redirect_uri/],
  [{ ...web, client_name: '' }, /^client_name: /],
  [{ ...web, grant_types: ['implicit'] }, /^grant_types\.0: /],
  [{ ...web, token_endpoint_auth_method: 'tls_client_auth' }, /^token_endpoint_auth_method: /],
  [
    { ...web, token_endpoint_auth_method: 'private_key_jwt' },
    /^token_endpoint_auth_method: private_key_jwt needs the client keys/,
  ],
  [{ ...web, redirect_uris: ['http://evil.example/cb'] }, /^redirect_uris\.0: plain http/],
  [{ ...web, redirect_uris: [] }, /^redirect_uris: authorization_code needs at least one/],
  [{ ...web, grant_types: ['password'] }, /^grant_types: the password grant is for first-party/],
  [
    { ...web, token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
    /^grant_types: a public client .* cannot use client_credentials/,
  ],
  [{ ...web, response_types: [] }, /^response_types: authorization_code in grant_types needs code/],
  [
    { client_name: 'svc', grant_types: ['client_credentials'], response_types: ['code'] },
    /^response_types: code needs authorization_code/,
  ],
  [{ ...web, scope: 'openid "quoted"' }, /^scope: scope tokens are printable ASCII/],
  [{ ...web, client_uri: 'http://app.example' }, /^client_uri: must be an https URL/],
  [{ ...web, logo_uri: 'https://user:pw@app.example/l.png' }, /^logo_uri: must be an https URL/],
  [{ ...web, id_token_signed_response_alg: 'none' }, /^id_token_signed_response_alg: /],
  [{ ...web, access_token_ttl: 0 }, /^access_token_ttl: /],
  [{ ...web, dpop_bound_access_tokens: 'yes' }, /^dpop_bound_access_tokens: /],
  [
    { ...web, require_pushed_authorization_requests: 'yes' },
    /^require_pushed_authorization_requests: /,
  ],
  [
    { ...web, require_signed_request_object: true },
    /^require_signed_request_object: signed request objects need the client keys/,
  ],
  [{ ...web, jwks: { keys: [] } }, /^jwks\.keys: /],
  [{ ...web, jwks_uri: 'ftp://app.example/jwks' }, /^jwks_uri: must be an https URL/],
  [
    { ...web, token_endpoint_auth_signing_alg: 'ES256' },
    /^token_endpoint_auth_signing_alg: applies only to .* private_key_jwt or client_secret_jwt/,
  ],
  // Back-Channel Logout 1.0 §2.2: an absolute https URL without a fragment (http on loopback).
  [
    { ...web, backchannel_logout_uri: 'http://rp.example/bc' },
    /^backchannel_logout_uri: must be an https URL/,
  ],
  [
    { ...web, backchannel_logout_uri: 'https://rp.example/bc#frag' },
    /^backchannel_logout_uri: must be an https URL .* fragment/,
  ],
  [{ ...web, backchannel_logout_uri: '/bc' }, /^backchannel_logout_uri: must be an https URL/],
  [
    { ...web, backchannel_logout_session_required: true },
    /^backchannel_logout_session_required: applies only with a backchannel_logout_uri/,
  ],
  [
    { ...web, request_object_signing_alg: 'HS256' },
    /^request_object_signing_alg: must be one of RS256/,
  ],
])('refuses %j, naming the field', (doc, message) => {
  expect(problems(doc)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
});

it('allows a localhost client_uri for development', () => {
  expect(
    clientMetadataSchema.parse({ ...web, client_uri: 'http://localhost:3000' }).client_uri,
  ).toBe('http://localhost:3000');
});

describe('the device authorization grant (RFC 8628) in grant_types', () => {
  const device: ClientMetadataInput = {
    client_name: 'Living Room TV',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    scope: 'openid offline_access',
  };

  it('registers a public device client without redirect URIs, and prints it back', () => {
    const settings = settingsFromMetadata(clientMetadataSchema.parse(device));
    expect(settings).toMatchObject({
      isPublic: true,
      redirectUris: [],
      grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    });
    const printed = metadataOfClient(record(device));
    expect(printed.grant_types).toEqual(device.grant_types);
    expect(printed.response_types).toEqual([]);
    const { client_id: _id, client_id_issued_at: _at, ...again } = printed;
    expect(settingsFromMetadata(clientMetadataSchema.parse(again))).toEqual(settings);
  });

  it('refuses a misspelled grant type name', () => {
    expect(
      problems({ ...device, grant_types: ['urn:ietf:params:oauth:grant-type:device-code'] }),
    ).toEqual([expect.stringMatching(/^grant_types\.0: /)]);
  });
});
