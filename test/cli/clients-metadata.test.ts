/**
 * `tessera clients create|update|show` with an RFC 7591 client-metadata document (--metadata
 * FILE), against a fresh PostgreSQL database: the document is the registration, printed back
 * with client_id (and the secret once), refused field by field before anything is written.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyClientSecret } from '../../src/oauth/client-auth/secrets';
import { runCliInProcess, type CliRun } from '../support/cli';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database';

const KEK = randomBytes(32).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'tessera-metadata-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(document: unknown): string {
  const path = join(dir, `client-${++n}.json`);
  writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document));
  return path;
}

const json = (r: CliRun) => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PUBLIC_JWK = publicKey.export({ format: 'jwk' });
const PRIVATE_JWK = privateKey.export({ format: 'jwk' });

const web = {
  client_name: 'Shop',
  redirect_uris: ['https://shop.example/cb'],
  post_logout_redirect_uris: ['https://shop.example/bye'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile offline_access',
  client_uri: 'https://shop.example',
  logo_uri: 'https://shop.example/logo.png',
  audiences: ['https://api.shop.example'],
  id_token_signed_response_alg: 'ES256',
  access_token_ttl: 300,
};

(serverUrl() ? describe : describe.skip)('clients --metadata (PostgreSQL)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  const tessera = (args: string[], stdin = '') =>
    runCliInProcess(args, { ...env, ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' }, stdin);
  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 2 });
    env = { DATABASE_URL: database.url!, KEY_ENCRYPTION_KEY: KEK };
  });
  afterAll(() => database?.drop());

  let clientId: string;
  let secret: string;
  const update = (document: unknown, ...flags: string[]) =>
    tessera(['clients', 'update', '--client-id', clientId, '--metadata', file(document), ...flags]);

  it('create --metadata registers the document and prints it back with the secret once', async () => {
    const out = json(await tessera(['clients', 'create', '--metadata', file(web), '--json']));
    expect(out).toEqual({
      ...web,
      client_id: expect.any(String),
      client_id_issued_at: expect.any(Number),
      client_secret: expect.any(String),
      client_secret_expires_at: 0,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      first_party: false,
      dpop_bound_access_tokens: false,
      require_pushed_authorization_requests: false,
      require_signed_request_object: false,
    });
    clientId = out.client_id as string;
    secret = out.client_secret as string;
    const row = await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } });
    expect(row).toMatchObject({
      name: 'Shop',
      tokenEndpointAuthMethod: 'client_secret_basic',
      clientUri: 'https://shop.example',
      signingAlg: 'ES256',
      accessTokenTtl: 300,
    });
    expect(verifyClientSecret(row.secretHash!, secret)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('show prints the registration without any secret, ready to edit and send back', async () => {
    const shown = json(await tessera(['clients', 'show', '--client-id', clientId, '--json']));
    expect(shown).toMatchObject({ ...web, client_id: clientId });
    expect(shown).not.toHaveProperty('client_secret');
    expect(JSON.stringify(shown)).not.toContain(secret);
    const text = await tessera(['clients', 'show', '--client-id', clientId]);
    expect(JSON.parse(text.stdout)).toEqual(shown);
  });

  it('update replaces the registration; omitted fields take their defaults; the secret stays', async () => {
    const shown = json(await tessera(['clients', 'show', '--client-id', clientId, '--json']));
    const { logo_uri: _l, ...rest } = shown;
    const edited = { ...rest, redirect_uris: ['https://shop.example/callback'] };
    const out = json(await update(edited, '--json'));
    expect(out).toMatchObject({
      client_id: clientId,
      redirect_uris: ['https://shop.example/callback'],
    });
    expect(out).not.toHaveProperty('logo_uri');
    expect(out).not.toHaveProperty('client_secret');
    const row = await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } });
    expect(row.logoUri).toBeNull();
    expect(verifyClientSecret(row.secretHash!, secret)).toBe(true);
  });

  it('update to public drops the secret; back to confidential issues a new one, shown once', async () => {
    const pub = { ...web, token_endpoint_auth_method: 'none' };
    const made = json(await update(pub, '--json'));
    expect(made).toMatchObject({ token_endpoint_auth_method: 'none' });
    expect(
      (await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } })).secretHash,
    ).toBeNull();
    const back = await update(web);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(
      /^updated confidential client Shop\nclient_id\s+\S+\nclient_secret\s+(\S+)\n/,
    );
    expect(back.stdout).toContain('Store the client_secret now');
    const fresh = /client_secret\s+(\S+)/.exec(back.stdout)![1]!;
    const row = await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } });
    expect(verifyClientSecret(row.secretHash!, fresh)).toBe(true);
    expect(verifyClientSecret(row.secretHash!, secret)).toBe(false);
  });

  it.each([
    [
      'another client_id',
      { ...web, client_id: 'someone-else' },
      /client_id "someone-else" is not /,
    ],
    ['a client_secret', { ...web, client_secret: 'chosen' }, /client_secret cannot be set/],
  ])('update refuses %s with exit 1 and changes nothing', async (_name, doc, message) => {
    const before = await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } });
    const res = await update(doc);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(message);
    expect(await database.db.prisma.client.findUniqueOrThrow({ where: { id: clientId } })).toEqual(
      before,
    );
  });

  it('update of an unknown client exits 1', async () => {
    const res = await tessera([
      'clients',
      'update',
      '--client-id',
      'nope',
      '--metadata',
      file(web),
    ]);
    expect(res).toMatchObject({ code: 1, stderr: 'tessera: no client nope\n' });
  });

  it.each([
    ['an unknown field', { ...web, redirect_uri: 'x' }, /Unrecognized key.*"redirect_uri"/],
    [
      'a bad redirect URI',
      { ...web, redirect_uris: ['http://evil.example/cb'] },
      /redirect_uris\[0\] http:\/\/evil\.example\/cb: plain http/,
    ],
    [
      'a non-boolean DPoP flag',
      { ...web, dpop_bound_access_tokens: 'yes' },
      /dpop_bound_access_tokens/,
    ],
    [
      'client keys with a private member',
      { ...web, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [PRIVATE_JWK] } },
      /jwks: keys\[0\] has the private member d: register public keys only/,
    ],
    [
      'both jwks and jwks_uri',
      { ...web, jwks: { keys: [PUBLIC_JWK] }, jwks_uri: 'https://shop.example/jwks' },
      /jwks_uri https:\/\/shop\.example\/jwks: give jwks or jwks_uri, not both/,
    ],
    ['not JSON', '{"client_name": ', /--metadata .*: not valid JSON/],
    ['not an object', '[1]', /--metadata .*: must hold one JSON object/],
  ])(
    'create --metadata with %s exits 2, naming it, and writes nothing',
    async (_name, doc, message) => {
      const before = await database.db.prisma.client.count();
      const res = await tessera(['clients', 'create', '--metadata', file(doc)]);
      expect(res.code).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(message);
      expect(res.stderr).toContain('usage: tessera clients create');
      expect(await database.db.prisma.client.count()).toBe(before);
    },
  );

  it('create --metadata with another setting flag exits 2: the file holds everything', async () => {
    const res = await tessera(['clients', 'create', '--metadata', file(web), '--first-party']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /--metadata holds the whole registration: put --first-party in the file/,
    );
  });

  it('create --metadata for private_key_jwt registers the keys and prints no secret', async () => {
    const document = {
      client_name: 'Keys',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ ...PUBLIC_JWK, kid: 'k1' }] },
    };
    const out = json(await tessera(['clients', 'create', '--metadata', file(document), '--json']));
    expect(out).toMatchObject(document);
    expect(out).not.toHaveProperty('client_secret');
    const text = await tessera(['clients', 'create', '--metadata', file(document)]);
    expect(text.stdout).not.toMatch(/client_secret/);
    const row = await database.db.prisma.client.findUniqueOrThrow({
      where: { id: out.client_id as string },
    });
    expect([row.secretHash, row.secretCiphertext]).toEqual([null, null]);
    const rotate = await tessera(['clients', 'rotate-secret', '--client-id', row.id]);
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(/a private_key_jwt client has no secret/);
  });

  it('create --metadata for client_secret_jwt prints the secret once and stores it sealed', async () => {
    const document = {
      client_name: 'HMAC',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_jwt',
    };
    const out = json(await tessera(['clients', 'create', '--metadata', file(document), '--json']));
    const issued = out.client_secret as string;
    expect(issued).toEqual(expect.any(String));
    const row = await database.db.prisma.client.findUniqueOrThrow({
      where: { id: out.client_id as string },
    });
    expect(verifyClientSecret(row.secretHash!, issued)).toBe(true);
    expect(row.secretCiphertext).toEqual(expect.any(String));
    expect(row.secretCiphertext).not.toContain(issued);
    const rotated = json(
      await tessera(['clients', 'rotate-secret', '--client-id', row.id, '--json']),
    );
    const after = await database.db.prisma.client.findUniqueOrThrow({ where: { id: row.id } });
    expect(verifyClientSecret(after.secretHash!, rotated.client_secret as string)).toBe(true);
    expect(after.secretCiphertext).not.toBe(row.secretCiphertext);
  });

  it('create --metadata - reads the document from standard input', async () => {
    const out = json(
      await tessera(
        ['clients', 'create', '--metadata', '-', '--json'],
        JSON.stringify({
          client_name: 'CLI',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['http://127.0.0.1/cb'],
        }),
      ),
    );
    expect(out).toMatchObject({ client_name: 'CLI', token_endpoint_auth_method: 'none' });
    expect(out).not.toHaveProperty('client_secret');
  });

  it('the flags fill in the same document: create --json prints metadata names', async () => {
    const out = json(
      await tessera([
        'clients',
        'create',
        '--name',
        'Flags',
        '--grant',
        'client_credentials',
        '--scope',
        'api:read',
        '--audience',
        'https://api.example',
        '--json',
      ]),
    );
    expect(out).toMatchObject({
      client_name: 'Flags',
      grant_types: ['client_credentials'],
      response_types: [],
      scope: 'api:read',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: ['https://api.example'],
      client_secret: expect.any(String),
    });
  });
  it('create --metadata registers a token-exchange policy (RFC 8693), update removes it', async () => {
    const gateway = {
      client_name: 'Gateway',
      grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'],
      scope: 'api:read',
      audiences: ['https://gateway.example'],
      token_exchange: { audiences: ['https://orders.example'], impersonation: true },
    };
    const out = json(await tessera(['clients', 'create', '--metadata', file(gateway), '--json']));
    expect(out.token_exchange).toEqual({
      audiences: ['https://orders.example'],
      impersonation: true,
      subject_token_types: ['urn:ietf:params:oauth:token-type:access_token'],
    });
    const id = out.client_id as string;
    const refused = await tessera([
      'clients',
      'update',
      '--client-id',
      id,
      '--metadata',
      file({ ...gateway, token_exchange: undefined }),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/token_exchange: token exchange needs a policy/);
    const updated = json(
      await tessera([
        'clients',
        'update',
        '--client-id',
        id,
        '--metadata',
        file({ ...gateway, grant_types: ['client_credentials'], token_exchange: undefined }),
        '--json',
      ]),
    );
    expect(updated.token_exchange).toBeUndefined();
  });
});
