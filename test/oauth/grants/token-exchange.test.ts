/**
 * Token exchange (RFC 8693) end to end: a user signs in to the web app, the gateway service
 * trades the user's access token (openid-client v6 genericGrantRequest) for one to the orders
 * API naming itself in `act`, which the orders API's resource-server middleware accepts; the
 * orders service trades that again (a chain: nested `act`); impersonation only where the
 * policy allows it; ID tokens only where the policy lists them; DPoP binding; the audit log.
 */
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from '../../support/server';
import {
  basic,
  decodeJwt,
  makeClient,
  makeUser,
  passwordLogin,
  token,
} from '../../support/fixtures';
import { signWithServerKey } from '../../support/tokens';
import { makeProof, proofKey } from '../../support/dpop';
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
  startResourceServer,
  type ExchangeCast,
  type RunningResourceServer,
} from '../../support/token-exchange';
import type { UserRecord } from '../../../src/accounts/user-storage';

let server: TestServer;
let cast: ExchangeCast;
let user: UserRecord;
let ordersApi: RunningResourceServer;

beforeAll(async () => {
  server = await startTestServer();
  cast = await makeCast(server);
  user = await makeUser(server);
  ordersApi = await startResourceServer(server, ORDERS_API);
});
afterAll(async () => {
  await ordersApi?.close();
  await server?.stop();
});

async function userToken(scope = 'openid api:read api:write'): Promise<string> {
  const res = await passwordLogin(server, cast.web, user, { scope });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

interface ApiReply {
  status: number;
  body: { claims?: Record<string, unknown> & { act?: { sub: string; act?: unknown } } };
}

async function callApi(api: RunningResourceServer, accessToken: string): Promise<ApiReply> {
  const res = await fetch(api.url, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as ApiReply['body'] };
}

describe('token exchange (RFC 8693)', () => {
  it('a service exchanges a user’s token for the orders API, acting for the user (openid-client)', async () => {
    const subject = await userToken();
    const gateway = await oidc.discovery(
      new URL(server.config.issuer),
      cast.gateway.client.id,
      cast.gateway.secret!,
      undefined,
      { execute: [oidc.allowInsecureRequests] },
    );
    expect(gateway.serverMetadata().grant_types_supported).toContain(EXCHANGE);
    const response = await oidc.genericGrantRequest(gateway, EXCHANGE, {
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN,
      audience: ORDERS_API,
      scope: 'api:read',
    });
    expect(response).toMatchObject({
      issued_token_type: ACCESS_TOKEN,
      token_type: 'bearer',
      scope: 'api:read',
    });
    expect(response.refresh_token).toBeUndefined();
    expect(response.id_token).toBeUndefined();

    const api = await callApi(ordersApi, response.access_token);
    expect(api.status).toBe(200);
    expect(api.body.claims).toMatchObject({
      sub: user.id,
      aud: ORDERS_API,
      client_id: cast.gateway.client.id,
      scope: 'api:read',
      act: { sub: cast.gateway.client.id },
    });
    expect(api.body.claims?.act?.act).toBeUndefined();
    // The user's own token is not for the orders API.
    expect((await callApi(ordersApi, subject)).status).toBe(401);
  });

  it('without scope it keeps the subject’s scopes the service may hold; with resource, that target', async () => {
    const res = await exchange(server, cast.gateway, await userToken('openid profile api:read'), {
      resource: ORDERS_API,
    });
    expect(res.status).toBe(200);
    // `profile` is the user's, but the gateway is not registered for it.
    expect(res.body.scope).toBe('openid api:read');
    expect(decodeJwt(res.body.access_token as string).payload.aud).toBe(ORDERS_API);
  });

  it('names several audiences at once (audience and resource may repeat)', async () => {
    const body = new URLSearchParams({
      grant_type: EXCHANGE,
      subject_token: await userToken(),
      subject_token_type: ACCESS_TOKEN,
    });
    body.append('audience', ORDERS_API);
    body.append('resource', BILLING_API);
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(cast.gateway),
      },
      body,
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(decodeJwt(access_token).payload.aud).toEqual([ORDERS_API, BILLING_API]);
  });

  it('chains: the orders service exchanges the gateway’s token, nesting the earlier actor', async () => {
    const first = await exchange(server, cast.gateway, await userToken(), { audience: ORDERS_API });
    expect(first.status).toBe(200);
    const second = await exchange(server, cast.orders, first.body.access_token as string, {
      audience: BILLING_API,
    });
    expect(second.status).toBe(200);
    const { payload } = decodeJwt(second.body.access_token as string);
    expect(payload).toMatchObject({
      sub: user.id,
      aud: BILLING_API,
      client_id: cast.orders.client.id,
      act: { sub: cast.orders.client.id, act: { sub: cast.gateway.client.id } },
    });
  });

  it('an actor token names the actor: the subject of a token issued to the requesting client', async () => {
    const own = await token(server, cast.gateway, { grant_type: 'client_credentials' });
    const res = await exchange(server, cast.gateway, await userToken(), {
      audience: ORDERS_API,
      actor_token: own.body.access_token as string,
      actor_token_type: ACCESS_TOKEN,
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string).payload.act).toEqual({
      sub: cast.gateway.client.id,
    });
  });

  it('impersonation: only a client whose policy allows it gets a token without act', async () => {
    const impersonator = await makeService(
      server,
      { audiences: [ORDERS_API], impersonation: true },
      { audiences: [GATEWAY_API] },
    );
    const res = await exchange(server, impersonator, await userToken(), { audience: ORDERS_API });
    expect(res.status).toBe(200);
    const { payload } = decodeJwt(res.body.access_token as string);
    expect(payload).toMatchObject({ sub: user.id, client_id: impersonator.client.id });
    expect(payload.act).toBeUndefined();
    expect((await callApi(ordersApi, res.body.access_token as string)).status).toBe(200);

    // The same request by the delegation-only gateway still names the gateway.
    const delegated = await exchange(server, cast.gateway, await userToken(), {
      audience: ORDERS_API,
    });
    expect(decodeJwt(delegated.body.access_token as string).payload.act).toEqual({
      sub: cast.gateway.client.id,
    });

    // With an actor token even an impersonating client delegates.
    const own = await token(server, impersonator, { grant_type: 'client_credentials' });
    const withActor = await exchange(server, impersonator, await userToken(), {
      actor_token: own.body.access_token as string,
      actor_token_type: ACCESS_TOKEN,
    });
    expect(decodeJwt(withActor.body.access_token as string).payload.act).toEqual({
      sub: impersonator.client.id,
    });
  });

  it('respects may_act (RFC 8693 §4.4): the named party may act, another may not', async () => {
    const now = server.clock.epochSeconds();
    const claims = (mayAct: string) => ({
      iss: server.config.issuer,
      sub: user.id,
      aud: GATEWAY_API,
      client_id: cast.web.client.id,
      scope: 'api:read',
      iat: now,
      exp: now + 300,
      auth_time: now,
      jti: `may-act-${mayAct}-${now}`,
      may_act: { sub: mayAct },
    });
    const allowed = await signWithServerKey(server, claims(cast.gateway.client.id));
    expect((await exchange(server, cast.gateway, allowed, { audience: ORDERS_API })).status).toBe(
      200,
    );
    const other = await signWithServerKey(server, claims('someone-else'));
    const refused = await exchange(server, cast.gateway, other, { audience: ORDERS_API });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_request' });
    expect(refused.body.error_description).toMatch(/may_act/);
  });

  it('never outlives the subject token', async () => {
    const shortLived = await makeService(
      server,
      { audiences: [ORDERS_API] },
      { audiences: [GATEWAY_API] },
    );
    const web = await makeClient(server, { audiences: [GATEWAY_API], accessTokenTtl: 60 });
    const login = await passwordLogin(server, web, user, { scope: 'api:read' });
    const res = await exchange(server, shortLived, login.body.access_token as string);
    expect(res.status).toBe(200);
    expect(res.body.expires_in).toBeLessThanOrEqual(60);
    const subjectExp = decodeJwt(login.body.access_token as string).payload.exp as number;
    expect(decodeJwt(res.body.access_token as string).payload.exp).toBeLessThanOrEqual(subjectExp);
  });

  it('binds the token to the DPoP proof’s key, and a bound subject token needs that key', async () => {
    const key = await proofKey();
    const htu = `${server.config.issuer}/token`;
    const withProof = async (c: typeof cast.gateway, params: Record<string, string>) => {
      const res = await fetch(htu, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(c),
          dpop: await makeProof(key, htu),
        },
        body: new URLSearchParams({
          grant_type: EXCHANGE,
          subject_token_type: ACCESS_TOKEN,
          ...params,
        }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const bound = await withProof(cast.gateway, {
      subject_token: await userToken(),
      audience: ORDERS_API,
    });
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
    expect(decodeJwt(bound.body.access_token!).payload.cnf).toEqual({ jkt: key.jkt });

    // That DPoP-bound token as a subject: only with a proof by the same key.
    const without = await exchange(server, cast.orders, bound.body.access_token!);
    expect(without.status).toBe(400);
    expect(without.body).toMatchObject({ error: 'invalid_request' });
    expect(without.body.error_description).toMatch(/DPoP-bound/);
    const chained = await withProof(cast.orders, { subject_token: bound.body.access_token! });
    expect(chained.status).toBe(200);
  });

  it('exchanges an ID token only for a client whose policy lists ID tokens', async () => {
    const bff = await makeService(
      server,
      { audiences: [ORDERS_API], subject_token_types: [ACCESS_TOKEN, ID_TOKEN] },
      { firstParty: true, grantTypes: ['password', EXCHANGE] },
    );
    const login = await passwordLogin(server, bff, user, { scope: 'openid api:read' });
    const idToken = login.body.id_token as string;
    const res = await exchange(server, bff, idToken, {
      subject_token_type: ID_TOKEN,
      scope: 'api:read',
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string).payload).toMatchObject({
      sub: user.id,
      aud: ORDERS_API,
      scope: 'api:read',
      act: { sub: bff.client.id },
    });
    // The gateway's policy names access tokens only.
    const refused = await exchange(server, cast.gateway, idToken, {
      subject_token_type: ID_TOKEN,
      audience: ORDERS_API,
    });
    expect(refused.body).toMatchObject({ error: 'invalid_request' });
    expect(refused.body.error_description).toMatch(/^subject_token_type must be one of/);
  });

  it('records each exchange in the audit log, never the tokens', async () => {
    await exchange(server, cast.gateway, await userToken(), { audience: ORDERS_API });
    const [event] = await server.services.audit.list({ type: 'token.exchanged', limit: 1 });
    expect(event).toMatchObject({
      userId: user.id,
      clientId: cast.gateway.client.id,
      details: {
        subject_token_type: ACCESS_TOKEN,
        subject_client_id: cast.web.client.id,
        actor: cast.gateway.client.id,
        impersonation: false,
        audience: [ORDERS_API],
      },
    });
    expect(JSON.stringify(event)).not.toMatch(/eyJ/);
  });
});
