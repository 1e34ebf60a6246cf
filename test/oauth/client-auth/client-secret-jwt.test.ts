/**
 * client_secret_jwt (OIDC Core §9: HS256 keyed with the client secret) at /token, /introspect
 * and /revoke with openid-client v6's ClientSecretJwt(); the secret is stored envelope-encrypted
 * (never in the clear) and kept in step when it is issued, rotated or the method changes.
 */
import * as oidc from 'openid-client';
import {
  createClientFromMetadata,
  rotateClientSecret,
  updateClient,
} from '../../../src/admin/clients';
import type { ClientRecord } from '../../../src/clients/client-storage';
import { postWithAssertion, signAssertion } from '../../support/assertions';
import { basicAuth, post } from '../../support/fixtures';
import { clientKey } from '../../support/jwks-host';
import { useTestServer } from '../../support/server';

const server = useTestServer();

const service = {
  client_name: 'hmac service',
  grant_types: ['client_credentials'],
  scope: 'api:read',
  audiences: ['https://api.example'],
};
const CLIENT_CREDENTIALS = { grant_type: 'client_credentials', scope: 'api:read' };

async function secretJwtClient(extra: Record<string, unknown> = {}) {
  const made = await createClientFromMetadata(server().services, {
    ...service,
    token_endpoint_auth_method: 'client_secret_jwt',
    ...extra,
  });
  return { client: made.client, secret: made.secret! };
}

function relyingParty(clientId: string, secret: string): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(server().config.issuer),
    clientId,
    undefined,
    oidc.ClientSecretJwt(secret),
    { execute: [oidc.allowInsecureRequests] },
  );
}

const hs256 = (clientId: string, secret: string, claims: Record<string, unknown> = {}) =>
  signAssertion(server(), clientId, new TextEncoder().encode(secret), 'HS256', { claims });

async function storedRow(id: string) {
  return server().database.db.prisma.client.findUniqueOrThrow({ where: { id } });
}

it('openid-client authenticates at /token, /introspect and /revoke', async () => {
  const { client, secret } = await secretJwtClient({ token_endpoint_auth_signing_alg: 'HS256' });
  const config = await relyingParty(client.id, secret);
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api:read' });
  expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({
    active: true,
    client_id: client.id,
  });
  await oidc.tokenRevocation(config, tokens.access_token);
  expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
});

it('stores the secret encrypted: the ciphertext does not contain it', async () => {
  const { client, secret } = await secretJwtClient();
  const row = await storedRow(client.id);
  expect(row.secretCiphertext).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const raw = Buffer.from(secret, 'utf8');
  for (const form of [
    secret,
    raw.toString('base64'),
    raw.toString('base64url'),
    raw.toString('hex'),
  ])
    expect(row.secretCiphertext).not.toContain(form);
  const sealed = Buffer.from(row.secretCiphertext!.split('.')[2]!, 'base64url');
  expect(sealed.includes(raw)).toBe(false);
  expect(JSON.stringify(row)).not.toContain(secret);
});

it('a wrong secret, a replay and a signature by a key are refused', async () => {
  const { client, secret } = await secretJwtClient();
  const wrong = await postWithAssertion(
    server(),
    '/token',
    await hs256(client.id, 'x'.repeat(43)),
    CLIENT_CREDENTIALS,
  );
  expect(wrong.status).toBe(401);
  expect(wrong.body.error_description).toMatch(/signature is invalid/);

  const once = await hs256(client.id, secret);
  expect((await postWithAssertion(server(), '/token', once, CLIENT_CREDENTIALS)).status).toBe(200);
  const again = await postWithAssertion(server(), '/token', once, CLIENT_CREDENTIALS);
  expect(again.status).toBe(401);
  expect(again.body.error_description).toMatch(/jti has already been used/);

  const key = await clientKey('ES256');
  const signed = await signAssertion(server(), client.id, key.privateKey, 'ES256');
  const res = await postWithAssertion(server(), '/token', signed, CLIENT_CREDENTIALS);
  expect(res.status).toBe(401);
  expect(res.body.error_description).toBe(
    'Client authentication failed: this client is registered for client_secret_jwt, not private_key_jwt',
  );
});

it('the same secret sent as a password is refused: the registered method is enforced', async () => {
  const { client, secret } = await secretJwtClient();
  const res = await post(server(), '/token', CLIENT_CREDENTIALS, {
    headers: { authorization: basicAuth(client.id, secret) },
  });
  expect(res.status).toBe(401);
  expect(res.body.error_description).toMatch(
    /registered for client_secret_jwt, not client_secret_basic/,
  );
});

it('a secret-method client cannot use an assertion', async () => {
  const { client, secret } = await createClientFromMetadata(server().services, service);
  const res = await postWithAssertion(
    server(),
    '/token',
    await hs256(client.id, secret!),
    CLIENT_CREDENTIALS,
  );
  expect(res.status).toBe(401);
  expect(res.body.error_description).toMatch(
    /registered for client_secret_basic, not client_secret_jwt/,
  );
});

it('rotate-secret keeps the ciphertext in step: the old secret stops, the new one works', async () => {
  const { client, secret } = await secretJwtClient();
  const before = (await storedRow(client.id)).secretCiphertext;
  const fresh = await rotateClientSecret(server().services, client.id);
  server().services.clientLookup.invalidate(client.id);
  expect((await storedRow(client.id)).secretCiphertext).not.toBe(before);
  expect(
    (
      await postWithAssertion(
        server(),
        '/token',
        await hs256(client.id, secret),
        CLIENT_CREDENTIALS,
      )
    ).status,
  ).toBe(401);
  expect(
    (await postWithAssertion(server(), '/token', await hs256(client.id, fresh), CLIENT_CREDENTIALS))
      .status,
  ).toBe(200);
});

describe('changing the method keeps the secret columns consistent', () => {
  let client: ClientRecord;
  const update = (extra: Record<string, unknown>) =>
    updateClient(server().services, client.id, { ...service, ...extra });

  it('secret_basic → client_secret_jwt issues a new, recoverable secret', async () => {
    ({ client } = await createClientFromMetadata(server().services, service));
    const { secret } = await update({ token_endpoint_auth_method: 'client_secret_jwt' });
    expect(secret).toEqual(expect.any(String));
    expect((await storedRow(client.id)).secretCiphertext).toEqual(expect.any(String));
    expect(
      (
        await postWithAssertion(
          server(),
          '/token',
          await hs256(client.id, secret!),
          CLIENT_CREDENTIALS,
        )
      ).status,
    ).toBe(200);
  });

  it('client_secret_jwt → client_secret_jwt keeps the secret', async () => {
    const before = await storedRow(client.id);
    expect((await update({ token_endpoint_auth_method: 'client_secret_jwt' })).secret).toBeNull();
    const after = await storedRow(client.id);
    expect([after.secretHash, after.secretCiphertext]).toEqual([
      before.secretHash,
      before.secretCiphertext,
    ]);
  });

  it('client_secret_jwt → client_secret_post keeps the hash, drops the ciphertext', async () => {
    const before = await storedRow(client.id);
    expect((await update({ token_endpoint_auth_method: 'client_secret_post' })).secret).toBeNull();
    const after = await storedRow(client.id);
    expect(after.secretHash).toBe(before.secretHash);
    expect(after.secretCiphertext).toBeNull();
  });

  it('→ private_key_jwt drops the secret; rotate-secret then refuses', async () => {
    const key = await clientKey('ES256');
    expect(
      (
        await update({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [key.publicJwk] },
        })
      ).secret,
    ).toBeNull();
    const after = await storedRow(client.id);
    expect([after.secretHash, after.secretCiphertext]).toEqual([null, null]);
    await expect(rotateClientSecret(server().services, client.id)).rejects.toThrow(
      /a private_key_jwt client has no secret/,
    );
  });

  it('private_key_jwt → client_secret_jwt issues a secret again', async () => {
    const { secret } = await update({ token_endpoint_auth_method: 'client_secret_jwt' });
    expect(secret).toEqual(expect.any(String));
    const row = await storedRow(client.id);
    expect(row.secretHash).toEqual(expect.any(String));
    expect(row.secretCiphertext).toEqual(expect.any(String));
  });
});
