// A client's registered keys (clients/client-jwks.ts through the metadata schema): public
// signing keys of accepted strength only, jwks xor jwks_uri, and an auth signing alg that
// matches the method.
import { generateKeyPairSync } from 'node:crypto';
import { clientMetadataSchema, settingsFromMetadata } from '../../src/clients/client-metadata';
import { usablePublicKeys } from '../../src/clients/client-jwks';

type Jwk = Record<string, unknown>;

function jwkOf(
  type: 'rsa' | 'ec' | 'ed25519' | 'ed448',
  options: { modulusLength?: number; namedCurve?: string } = {},
): { pub: Jwk; priv: Jwk } {
  const { publicKey, privateKey } = generateKeyPairSync(
    type as 'rsa',
    options as { modulusLength: number },
  );
  return {
    pub: publicKey.export({ format: 'jwk' }),
    priv: privateKey.export({ format: 'jwk' }),
  };
}

const rsa = jwkOf('rsa', { modulusLength: 2048 });
const rsa1024 = jwkOf('rsa', { modulusLength: 1024 });
const p256 = jwkOf('ec', { namedCurve: 'P-256' });
const p384 = jwkOf('ec', { namedCurve: 'P-384' });
const ed = jwkOf('ed25519');
const ed448 = jwkOf('ed448');

const service = {
  client_name: 'signing service',
  grant_types: ['client_credentials'],
  token_endpoint_auth_method: 'private_key_jwt',
};

function problems(doc: Record<string, unknown>): string[] {
  const parsed = clientMetadataSchema.safeParse(doc);
  if (parsed.success) throw new Error('the document was accepted');
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

it('registers inline public keys and a pinned algorithm', () => {
  const jwks = {
    keys: [
      { ...rsa.pub, kid: 'r1' },
      { ...p256.pub, kid: 'e1' },
      { ...ed.pub, kid: 'o1' },
    ],
  };
  const settings = settingsFromMetadata(
    clientMetadataSchema.parse({ ...service, jwks, token_endpoint_auth_signing_alg: 'ES256' }),
  );
  expect(settings).toMatchObject({
    isPublic: false,
    tokenEndpointAuthMethod: 'private_key_jwt',
    jwks,
    jwksUri: null,
    tokenEndpointAuthSigningAlg: 'ES256',
  });
});

it('registers a jwks_uri', () => {
  const settings = settingsFromMetadata(
    clientMetadataSchema.parse({ ...service, jwks_uri: 'https://client.example/jwks.json' }),
  );
  expect(settings).toMatchObject({ jwks: null, jwksUri: 'https://client.example/jwks.json' });
});

it('client_secret_jwt needs no keys and may pin HS256', () => {
  const settings = settingsFromMetadata(
    clientMetadataSchema.parse({
      ...service,
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256',
    }),
  );
  expect(settings).toMatchObject({
    isPublic: false,
    tokenEndpointAuthMethod: 'client_secret_jwt',
    tokenEndpointAuthSigningAlg: 'HS256',
  });
});

it.each(['d', 'p', 'q', 'dp', 'dq', 'qi'])('refuses an RSA key with the private member %s', (m) => {
  const key = { ...rsa.pub, [m]: rsa.priv[m] };
  expect(problems({ ...service, jwks: { keys: [key] } })).toEqual([
    expect.stringMatching(
      new RegExp(`^jwks: keys\\[0\\] has the private member ${m}: register public keys only`),
    ),
  ]);
});

it.each([
  ['an EC private key', { ...p256.priv }, /private member d/],
  ['an Ed25519 private key', { ...ed.priv }, /private member d/],
  ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0' }, /private member k/],
  ['an RSA key of 1024 bits', rsa1024.pub, /RSA key shorter than 2048 bits/],
  ['a P-384 key', p384.pub, /must be an RSA key, an EC key on P-256 or an OKP Ed25519 key/],
  ['an Ed448 key', ed448.pub, /must be an RSA key, an EC key on P-256/],
  ['an encryption key', { ...rsa.pub, use: 'enc' }, /must have use "sig"/],
  [
    'an RSA key labelled ES256',
    { ...rsa.pub, alg: 'ES256' },
    /has alg "ES256", which is not a supported/,
  ],
  ['an RSA key labelled RS512', { ...rsa.pub, alg: 'RS512' }, /has alg "RS512"/],
  ['an EC key off its curve', { ...p256.pub, y: p256.pub.x }, /is not a valid public key/],
  ['not an object', 'key', /expected record|Invalid input/],
])('refuses %s in jwks', (_name, key, message) => {
  expect(problems({ ...service, jwks: { keys: [key] } })).toEqual(
    expect.arrayContaining([expect.stringMatching(message)]),
  );
});

it.each([
  [
    'several keys without kids',
    { ...service, jwks: { keys: [rsa.pub, p256.pub] } },
    /^jwks: every key needs a kid when the set has several keys/,
  ],
  [
    'two keys with one kid',
    {
      ...service,
      jwks: {
        keys: [
          { ...rsa.pub, kid: 'a' },
          { ...p256.pub, kid: 'a' },
        ],
      },
    },
    /^jwks: two keys have the same kid/,
  ],
  ['an empty set', { ...service, jwks: { keys: [] } }, /^jwks\.keys: /],
  [
    'both jwks and jwks_uri',
    { ...service, jwks: { keys: [rsa.pub] }, jwks_uri: 'https://client.example/jwks' },
    /^jwks_uri: give jwks or jwks_uri, not both/,
  ],
  [
    'private_key_jwt without keys',
    service,
    /^token_endpoint_auth_method: private_key_jwt needs the client keys: jwks or jwks_uri/,
  ],
  [
    'a plain-http jwks_uri on a public host',
    { ...service, jwks_uri: 'http://client.example/jwks' },
    /^jwks_uri: must be an https URL \(http only on a loopback host\)/,
  ],
  [
    'a jwks_uri with credentials',
    { ...service, jwks_uri: 'https://u:p@client.example/jwks' },
    /^jwks_uri: must be an https URL/,
  ],
  [
    'HS256 for private_key_jwt',
    { ...service, jwks: { keys: [rsa.pub] }, token_endpoint_auth_signing_alg: 'HS256' },
    /^token_endpoint_auth_signing_alg: HS256 is for client_secret_jwt/,
  ],
  [
    'RS256 for client_secret_jwt',
    {
      ...service,
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
    },
    /^token_endpoint_auth_signing_alg: client_secret_jwt signs with HS256/,
  ],
  [
    'alg none',
    { ...service, jwks: { keys: [rsa.pub] }, token_endpoint_auth_signing_alg: 'none' },
    /^token_endpoint_auth_signing_alg: must be one of RS256, PS256, ES256, EdDSA, Ed25519, HS256/,
  ],
  [
    'a signing alg for a secret method',
    {
      ...service,
      token_endpoint_auth_method: 'client_secret_basic',
      token_endpoint_auth_signing_alg: 'HS256',
    },
    /^token_endpoint_auth_signing_alg: applies only to token_endpoint_auth_method private_key_jwt/,
  ],
])('refuses %s', (_name, doc, message) => {
  expect(problems(doc)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
});

it('keeps only the usable public keys of a fetched set', () => {
  const set = usablePublicKeys({
    keys: [rsa.priv, { ...rsa.pub, kid: 'ok' }, rsa1024.pub, p384.pub, { kty: 'oct', k: 'AA' }],
  });
  expect(set).toEqual({ keys: [{ ...rsa.pub, kid: 'ok' }] });
  expect(usablePublicKeys({ nope: [] })).toBeNull();
  expect(usablePublicKeys('text')).toBeNull();
});
