/**
 * private_key_jwt with keys at a jwks_uri, seen through /token: a rotation is followed after
 * one refetch, a flood of unknown kids costs at most one fetch per interval, and a jwks_uri
 * that redirects, is too big, stalls, fails or points into the server's own network is a 401
 * invalid_client (never a 500). The client's web server is real, on 127.0.0.1.
 */
import { createClientFromMetadata } from '../../../src/admin/clients';
import type { ClientRecord } from '../../../src/clients/client-storage';
import { postWithAssertion, signAssertion } from '../../support/assertions';
import {
  clientKey,
  startJwksHost,
  type JwksHost,
  type TestClientKey,
} from '../../support/jwks-host';
import { useTestServer, type TestServer } from '../../support/server';

let host: JwksHost;
beforeAll(async () => {
  host = await startJwksHost();
});
afterAll(() => host.close());

const CLIENT_CREDENTIALS = { grant_type: 'client_credentials', scope: 'api:read' };

async function remoteKeyClient(server: TestServer, jwksUri: string): Promise<ClientRecord> {
  const { client } = await createClientFromMetadata(server.services, {
    client_name: 'remote key service',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks_uri: jwksUri,
    grant_types: ['client_credentials'],
    scope: 'api:read',
    audiences: ['https://api.example'],
  });
  return client;
}

async function tokenWith(
  server: TestServer,
  client: ClientRecord,
  key: TestClientKey,
  kid = key.kid,
) {
  const assertion = await signAssertion(server, client.id, key.privateKey, key.alg, {
    header: { kid },
  });
  return postWithAssertion(server, '/token', assertion, CLIENT_CREDENTIALS);
}

describe('with OUTBOUND_ALLOW_PRIVATE=true', () => {
  const server = useTestServer({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
  let first: TestClientKey;
  let second: TestClientKey;
  beforeAll(async () => {
    first = await clientKey('ES256', 'first');
    second = await clientKey('RS256', 'second');
  });
  beforeEach(() => {
    host.mode = 'ok';
    host.cacheControl = 'max-age=300';
    host.jwks = { keys: [first.publicJwk] };
  });

  it('follows a key rotation at the jwks_uri after one refetch', async () => {
    const client = await remoteKeyClient(server(), host.jwksUri);
    const fetches = host.fetches;
    expect((await tokenWith(server(), client, first)).status).toBe(200);
    expect(host.fetches).toBe(fetches + 1);
    host.jwks = { keys: [first.publicJwk, second.publicJwk] };
    // The set was fetched moments ago: the unknown kid waits for the refetch interval.
    const early = await tokenWith(server(), client, second);
    expect(early.status).toBe(401);
    expect(early.body.error_description).toMatch(/no registered key has kid "second"/);
    expect(host.fetches).toBe(fetches + 1);
    server().clock.advance(60);
    expect((await tokenWith(server(), client, second)).status).toBe(200);
    expect(host.fetches).toBe(fetches + 2);
    expect((await tokenWith(server(), client, first)).status).toBe(200);
    expect(host.fetches).toBe(fetches + 2);
  });

  it('a flood of unknown kids causes at most one fetch', async () => {
    const client = await remoteKeyClient(server(), host.jwksUri);
    expect((await tokenWith(server(), client, first)).status).toBe(200);
    server().clock.advance(61);
    const fetches = host.fetches;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => tokenWith(server(), client, first, `invented-${i}`)),
    );
    expect(answers.map((a) => [a.status, a.body.error])).toEqual(
      answers.map(() => [401, 'invalid_client']),
    );
    expect(host.fetches - fetches).toBeLessThanOrEqual(1);
  });

  it.each([
    ['redirects', 'redirect', /jwks_uri: redirects are not followed \(302\)/],
    ['is too big', 'huge', /jwks_uri: the answer exceeds 65536 bytes/],
    ['answers 500', 'error', /jwks_uri answered 500/],
  ] as const)('a jwks_uri that %s: invalid_client', async (_what, mode, message) => {
    const client = await remoteKeyClient(server(), host.jwksUri);
    host.mode = mode;
    const res = await tokenWith(server(), client, first);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'invalid_client',
      error_description: expect.stringMatching(message),
    });
  });

  it('a jwks_uri that never answers: invalid_client after the deadline', async () => {
    const client = await remoteKeyClient(server(), host.jwksUri);
    host.mode = 'hang';
    const res = await tokenWith(server(), client, first);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/jwks_uri: no complete answer within 5000 ms/);
  }, 20_000);

  it('a jwks_uri with no usable key: invalid_client', async () => {
    const client = await remoteKeyClient(server(), host.jwksUri);
    host.jwks = { keys: [first.privateJwk] };
    const res = await tokenWith(server(), client, first);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/holds no usable public key/);
  });
});

describe('with OUTBOUND_ALLOW_PRIVATE=false (the default)', () => {
  const server = useTestServer();
  let key: TestClientKey;
  beforeAll(async () => {
    key = await clientKey('ES256', 'k');
    host.mode = 'ok';
    host.jwks = { keys: [key.publicJwk] };
  });

  it('a plain-http jwks_uri is not registered', async () => {
    await expect(remoteKeyClient(server(), host.jwksUri)).rejects.toThrow(
      /jwks_uri http:\/\/127\.0\.0\.1:\d+\/jwks: plain http is allowed only with OUTBOUND_ALLOW_PRIVATE=true/,
    );
  });

  it.each([
    'https://127.0.0.1:PORT/jwks',
    'https://localhost:PORT/jwks',
    'https://[::ffff:127.0.0.1]:PORT/jwks',
  ])('a jwks_uri at %s is never fetched: invalid_client', async (uri) => {
    const client = await remoteKeyClient(server(), uri.replace('PORT', new URL(host.url).port));
    const fetches = host.fetches;
    const res = await tokenWith(server(), client, key);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'invalid_client',
      error_description:
        "Client authentication failed: the client's jwks_uri: the host resolves to a private, loopback or reserved address",
    });
    expect(host.fetches).toBe(fetches);
  });
});
