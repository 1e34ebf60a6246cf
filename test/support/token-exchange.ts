/**
 * The cast of the token-exchange tests (RFC 8693): a first-party web app users sign in to,
 * whose tokens are for the gateway API; the gateway service, which exchanges them for the
 * orders API; the orders service, which exchanges again for billing (a chain); and a resource
 * server guarding the orders API with the resource-server middleware.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import { requireAccessToken, type AccessTokenState } from '../../src/resource-server';
import type { NewClientInput } from '../../src/admin/clients';
import { makeClient, token, type Reply, type TestClient } from './fixtures';
import type { TestServer } from './server';

export const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
export const GATEWAY_API = 'https://gateway.example';
export const ORDERS_API = 'https://orders.example';
export const BILLING_API = 'https://billing.example';

export interface ExchangeCast {
  /** The app users sign in to (password grant); its access tokens are for the gateway API. */
  web: TestClient;
  /** Serves the gateway API; may exchange into orders and billing, delegation only. */
  gateway: TestClient;
  /** Serves the orders API; may exchange into billing (the second link of a chain). */
  orders: TestClient;
}

/** A confidential service that may exchange tokens under `policy`. */
export function makeService(
  server: TestServer,
  policy: NonNullable<NewClientInput['tokenExchange']>,
  input: Partial<NewClientInput> = {},
): Promise<TestClient> {
  return makeClient(server, {
    name: 'exchanging service',
    firstParty: false,
    grantTypes: [EXCHANGE, 'client_credentials'],
    scopes: ['openid', 'api:read', 'api:write', 'orders'],
    tokenExchange: policy,
    ...input,
  });
}

export async function makeCast(server: TestServer): Promise<ExchangeCast> {
  return {
    web: await makeClient(server, { audiences: [GATEWAY_API] }),
    gateway: await makeService(
      server,
      { audiences: [ORDERS_API, BILLING_API] },
      { audiences: [GATEWAY_API] },
    ),
    orders: await makeService(server, { audiences: [BILLING_API] }, { audiences: [ORDERS_API] }),
  };
}

/** A token-exchange request by `c` (client_secret_basic) for `subjectToken`. */
export function exchange(
  server: TestServer,
  c: TestClient,
  subjectToken: string,
  extra: Record<string, string> = {},
): Promise<Reply> {
  return token(server, c, {
    grant_type: EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN,
    ...extra,
  });
}

export interface RunningResourceServer {
  url: string;
  close(): Promise<void>;
}

/** An API for `audience` behind requireAccessToken; GET /whoami answers with the token's claims. */
export async function startResourceServer(
  server: TestServer,
  audience: string,
): Promise<RunningResourceServer> {
  const app = new Koa<AccessTokenState>();
  app.use(
    requireAccessToken({
      issuer: server.config.issuer,
      audience,
      now: () => server.clock.now().getTime(),
    }),
  );
  app.use((ctx) => {
    ctx.body = { claims: ctx.state.auth.claims, scopes: ctx.state.auth.scopes };
  });
  const http: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/whoami`,
    close: () => new Promise((r) => http.close(() => r())),
  };
}
