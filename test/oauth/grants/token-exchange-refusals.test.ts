/**
 * Every refusal of the token exchange (RFC 8693), each with its RFC error: subject and actor
 * tokens that are foreign, expired, revoked, malformed, tampered, of the wrong type or not for
 * this client are invalid_request (§2.2.2); audiences outside the policy invalid_target
 * (§2.2.2); scopes wider than the subject's invalid_scope (RFC 6749 §5.2); token types it does
 * not issue invalid_request; a public client or one without the grant unauthorized_client.
 */
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../../support/server';
import { makeUser, passwordLogin, post, token, type TestClient } from '../../support/fixtures';
import {
  accessClaims,
  revoke,
  signWithServerKey,
  signWithStrangerKey,
  tamper,
} from '../../support/tokens';
import {
  ACCESS_TOKEN,
  BILLING_API,
  EXCHANGE,
  exchange,
  GATEWAY_API,
  ID_TOKEN,
  makeCast,
  makeService,
  ORDERS_API,
  type ExchangeCast,
} from '../../support/token-exchange';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let cast: ExchangeCast;
let user: UserRecord;

beforeAll(async () => {
  server = await startTestServer();
  cast = await makeCast(server);
  user = await makeUser(server);
});
afterAll(async () => {
  await server?.stop();
});

async function userToken(c: TestClient = cast.web, scope = 'openid api:read'): Promise<string> {
  const res = await passwordLogin(server, c, user, { scope });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

/** Claims of a user's token for the gateway API, as the web app would get it; override freely. */
const forGateway = (overrides: Record<string, unknown> = {}) =>
  accessClaims(server, cast.web, user, { aud: GATEWAY_API, scope: 'api:read', ...overrides });

function expectError(
  res: { status: number; body: Record<string, unknown> },
  error: string,
  description?: RegExp,
) {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error });
  if (description) expect(res.body.error_description).toMatch(description);
}

describe('token exchange refusals (RFC 8693 §2.2.2)', () => {
  it.each<[string, () => Promise<string>]>([
    ['signed by a key that is not ours', () => signWithStrangerKey(forGateway(), 'stranger')],
    [
      'expired',
      () => {
        const now = server.clock.epochSeconds();
        return signWithServerKey(server, forGateway({ iat: now - 600, exp: now - 1 }));
      },
    ],
    ['malformed', async () => 'not.a.jwt'],
    ['tampered', async () => tamper(await userToken(), { scope: 'api:read api:write' })],
    [
      'of another issuer',
      () => signWithServerKey(server, forGateway({ iss: 'https://evil.example' })),
    ],
    [
      'an ID token sent as an access token',
      async () => (await passwordLogin(server, cast.web, user)).body.id_token as string,
    ],
  ])('a subject token %s is invalid_request', async (_, subject) => {
    const res = await exchange(server, cast.gateway, await subject(), { audience: ORDERS_API });
    expectError(res, 'invalid_request', /^subject_token is invalid, expired or revoked$/);
  });

  it('a revoked subject token is invalid_request', async () => {
    const subject = await userToken();
    expect((await revoke(server, cast.web, subject)).status).toBe(200);
    const res = await exchange(server, cast.gateway, subject, { audience: ORDERS_API });
    expectError(res, 'invalid_request', /^subject_token is invalid, expired or revoked$/);
  });

  it('a disabled user’s token is invalid_request', async () => {
    const other = await makeUser(server);
    const login = await passwordLogin(server, cast.web, other, { scope: 'api:read' });
    await server.services.users.setDisabled(other.id, true, server.clock.now());
    const res = await exchange(server, cast.gateway, login.body.access_token as string, {
      audience: ORDERS_API,
    });
    expectError(res, 'invalid_request');
  });

  it('a token not issued for this client (aud) is invalid_request', async () => {
    const forOrders = await signWithServerKey(server, forGateway({ aud: ORDERS_API }));
    const res = await exchange(server, cast.gateway, forOrders, { audience: BILLING_API });
    expectError(res, 'invalid_request', /not issued for this client/);
  });

  it('a client’s own token (no user) is invalid_request', async () => {
    const own = await token(server, cast.gateway, { grant_type: 'client_credentials' });
    const res = await exchange(server, cast.gateway, own.body.access_token as string, {
      audience: ORDERS_API,
    });
    expectError(res, 'invalid_request', /must be a user’s access token/);
  });

  it.each([
    ['urn:ietf:params:oauth:token-type:refresh_token'],
    ['urn:ietf:params:oauth:token-type:saml2'],
    [ID_TOKEN],
  ])('subject_token_type %s, not in the policy, is invalid_request', async (type) => {
    const res = await exchange(server, cast.gateway, await userToken(), {
      subject_token_type: type,
      audience: ORDERS_API,
    });
    expectError(res, 'invalid_request', /^subject_token_type must be one of/);
  });

  it('an access token sent as an ID token is invalid_request', async () => {
    const bff = await makeService(
      server,
      { audiences: [ORDERS_API], subject_token_types: [ACCESS_TOKEN, ID_TOKEN] },
      { firstParty: true, grantTypes: ['password', EXCHANGE] },
    );
    const res = await exchange(server, bff, await userToken(bff), { subject_token_type: ID_TOKEN });
    expectError(res, 'invalid_request', /^subject_token is invalid or expired$/);
  });

  it.each([
    ['audience', 'https://payroll.example'],
    ['resource', 'https://payroll.example'],
    ['resource', 'not a uri'],
    ['audience', GATEWAY_API],
  ])('%s=%s outside the policy is invalid_target', async (param, value) => {
    const res = await exchange(server, cast.gateway, await userToken(), { [param]: value });
    expectError(res, 'invalid_target');
  });

  it('no audience, when the policy has several, is invalid_target', async () => {
    const res = await exchange(server, cast.gateway, await userToken());
    expectError(res, 'invalid_target', /^audience or resource is required/);
  });

  it.each([
    ['api:read api:write', 'wider than the subject token'],
    ['orders', 'held by the client but not by the subject token'],
    ['admin', 'held by neither'],
  ])('scope %s (%s) is invalid_scope', async (scope) => {
    const res = await exchange(server, cast.gateway, await userToken(), {
      audience: ORDERS_API,
      scope,
    });
    expectError(res, 'invalid_scope');
  });

  it.each([
    ['urn:ietf:params:oauth:token-type:refresh_token'],
    [ID_TOKEN],
    ['urn:ietf:params:oauth:token-type:jwt'],
  ])('requested_token_type %s is not issued: invalid_request', async (type) => {
    const res = await exchange(server, cast.gateway, await userToken(), {
      audience: ORDERS_API,
      requested_token_type: type,
    });
    expectError(res, 'invalid_request', /^requested_token_type must be/);
  });

  it.each<[string, () => Promise<Record<string, string>>, RegExp]>([
    [
      'issued to another client',
      async () => {
        const other = await token(server, cast.orders, { grant_type: 'client_credentials' });
        return { actor_token: other.body.access_token as string, actor_token_type: ACCESS_TOKEN };
      },
      /^actor_token was not issued to this client$/,
    ],
    [
      'signed by a key that is not ours',
      async () => ({
        actor_token: await signWithStrangerKey(
          accessClaims(server, cast.gateway, user, { client_id: cast.gateway.client.id }),
          'stranger',
        ),
        actor_token_type: ACCESS_TOKEN,
      }),
      /^actor_token is invalid, expired or revoked$/,
    ],
    [
      'without actor_token_type',
      async () => ({ actor_token: await userToken() }),
      /^actor_token and actor_token_type go together$/,
    ],
    [
      'of a type it cannot be',
      async () => ({ actor_token: await userToken(), actor_token_type: ID_TOKEN }),
      /^actor_token_type must be/,
    ],
  ])('an actor token %s is invalid_request', async (_, actor, description) => {
    const res = await exchange(server, cast.gateway, await userToken(), {
      audience: ORDERS_API,
      ...(await actor()),
    });
    expectError(res, 'invalid_request', description);
  });

  it('actor_token_type without actor_token is invalid_request', async () => {
    const res = await exchange(server, cast.gateway, await userToken(), {
      audience: ORDERS_API,
      actor_token_type: ACCESS_TOKEN,
    });
    expectError(res, 'invalid_request', /go together/);
  });

  it('a delegation chain beyond its limit is invalid_request', async () => {
    let act: Record<string, unknown> = { sub: 'service-0' };
    for (let i = 1; i < 10; i++) act = { sub: `service-${i}`, act };
    const deep = await signWithServerKey(server, forGateway({ act }));
    const res = await exchange(server, cast.gateway, deep, { audience: ORDERS_API });
    expectError(res, 'invalid_request', /too many actors/);
  });

  it('a missing subject_token is invalid_request naming it', async () => {
    const res = await token(server, cast.gateway, {
      grant_type: EXCHANGE,
      subject_token_type: ACCESS_TOKEN,
    });
    expectError(res, 'invalid_request', /subject_token/);
  });

  it('a client without the grant in grant_types is unauthorized_client', async () => {
    const res = await exchange(server, cast.web, await userToken(), { audience: ORDERS_API });
    expectError(res, 'unauthorized_client');
  });

  it('a public client is unauthorized_client, even one stored with the grant', async () => {
    // Registration refuses this (client-metadata.ts); the grant refuses it again.
    const id = randomUUID();
    await server.services.clients.create({
      id,
      name: 'public exchanger',
      secretHash: null,
      isPublic: true,
      tokenEndpointAuthMethod: 'none',
      firstParty: false,
      redirectUris: [],
      postLogoutRedirectUris: [],
      grantTypes: [EXCHANGE],
      scopes: ['api:read'],
      audiences: [GATEWAY_API],
      accessTokenTtl: null,
      idTokenTtl: null,
      refreshTokenTtl: null,
      refreshTokenIdleTtl: null,
      signingAlg: null,
      tokenExchange: {
        audiences: [ORDERS_API],
        impersonation: false,
        subjectTokenTypes: [ACCESS_TOKEN],
      },
    });
    const res = await post(server, '/token', {
      client_id: id,
      grant_type: EXCHANGE,
      subject_token: await userToken(),
      subject_token_type: ACCESS_TOKEN,
      audience: ORDERS_API,
    });
    expectError(res, 'unauthorized_client', /^Public clients cannot use token exchange$/);
  });
});
