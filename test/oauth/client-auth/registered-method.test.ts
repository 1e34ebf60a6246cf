// A client registered with a token_endpoint_auth_method may authenticate only with it (RFC 7591
// §2, OpenID Connect Core §9); clients registered before the method was recorded keep either.
import { createClient, createClientFromMetadata, updateClient } from '../../../src/admin/clients';
import { basicAuth, post, type Reply } from '../../support/fixtures';
import { useTestServer } from '../../support/server';

const server = useTestServer();

const service = {
  grant_types: ['client_credentials'],
  scope: 'api:read',
  audiences: ['https://api.example'],
};

function byBasic(id: string, secret: string): Promise<Reply> {
  return post(
    server(),
    '/token',
    { grant_type: 'client_credentials', scope: 'api:read' },
    { headers: { authorization: basicAuth(id, secret) } },
  );
}

function byPost(id: string, secret: string): Promise<Reply> {
  return post(server(), '/token', {
    grant_type: 'client_credentials',
    scope: 'api:read',
    client_id: id,
    client_secret: secret,
  });
}

it('client_secret_basic, the default: the same secret in the body is refused', async () => {
  const { client, secret } = await createClientFromMetadata(server().services, {
    client_name: 'basic service',
    ...service,
  });
  expect((await byBasic(client.id, secret!)).status).toBe(200);
  const refused = await byPost(client.id, secret!);
  expect(refused.status).toBe(401);
  expect(refused.body).toEqual({
    error: 'invalid_client',
    error_description:
      'Client authentication failed: this client is registered for client_secret_basic, not client_secret_post',
  });
});

it('client_secret_post: the same secret in a Basic header is refused with a Basic challenge', async () => {
  const { client, secret } = await createClientFromMetadata(server().services, {
    client_name: 'post service',
    token_endpoint_auth_method: 'client_secret_post',
    ...service,
  });
  expect((await byPost(client.id, secret!)).status).toBe(200);
  const refused = await byBasic(client.id, secret!);
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
  expect(refused.body.error_description).toMatch(/registered for client_secret_post/);
});

it('a wrong secret says nothing about the registered method', async () => {
  const { client } = await createClientFromMetadata(server().services, {
    client_name: 'quiet service',
    ...service,
  });
  const res = await byPost(client.id, 'not-the-secret');
  expect(res.body).toEqual({
    error: 'invalid_client',
    error_description: 'Client authentication failed',
  });
});

it('a client registered without a method (flags, seed) accepts either secret method', async () => {
  const { client, secret } = await createClient(server().services, {
    name: 'legacy service',
    grantTypes: ['client_credentials'],
    scopes: ['api:read'],
    audiences: ['https://api.example'],
  });
  expect(client.tokenEndpointAuthMethod).toBeNull();
  expect((await byBasic(client.id, secret!)).status).toBe(200);
  expect((await byPost(client.id, secret!)).status).toBe(200);
});

it('an update to another method applies to the next request', async () => {
  const { client, secret } = await createClientFromMetadata(server().services, {
    client_name: 'moving service',
    ...service,
  });
  await updateClient(server().services, client.id, {
    client_name: 'moving service',
    token_endpoint_auth_method: 'client_secret_post',
    ...service,
  });
  expect((await byPost(client.id, secret!)).status).toBe(200);
  expect((await byBasic(client.id, secret!)).status).toBe(401);
});
