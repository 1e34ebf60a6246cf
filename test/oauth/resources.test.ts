/**
 * Resource indicators (RFC 8707) at the token endpoint, over real HTTP: `resource` is the one
 * parameter that may repeat (form or JSON list), each value must be an absolute URI without a
 * fragment registered for the client, and a refresh may narrow the login's resources but never
 * widen them — all refusals invalid_target (400), checked before a refresh token is rotated.
 */
import { startTestServer, type TestServer } from '../support/server';
import {
  basic,
  decodeJwt,
  makeClient,
  makeUser,
  PASSWORD,
  type Reply,
  type TestClient,
} from '../support/fixtures';
import type { UserRecord } from '../../src/accounts/user-storage';

const ORDERS = 'https://orders.example.test';
const BILLING = 'urn:example:billing';
const UNREGISTERED = 'https://evil.example.test';

let server: TestServer;
let user: UserRecord;
let app: TestClient;
let plain: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  app = await makeClient(server, { audiences: [ORDERS, BILLING] });
  plain = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

/** POSTs a form in which every value of `resources` is its own `resource` parameter. */
async function tokenRequest(
  c: TestClient,
  params: Record<string, string>,
  resources: string[] = [],
  path = '/token',
): Promise<Reply> {
  const body = new URLSearchParams(params);
  for (const r of resources) body.append('resource', r);
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c) },
    body: body.toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply['body'] };
}

/** POSTs `body` as JSON to /token for `app`. */
async function jsonRequest(body: unknown): Promise<Reply> {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(app) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply['body'] };
}

const login = (resources: string[] = []) =>
  tokenRequest(
    app,
    { grant_type: 'password', username: user.email, password: PASSWORD, scope: 'api:read' },
    resources,
  );
const refresh = (refreshToken: string, resources: string[] = []) =>
  tokenRequest(app, { grant_type: 'refresh_token', refresh_token: refreshToken }, resources);
const aud = (reply: Reply) => decodeJwt(reply.body.access_token as string).payload.aud;

function expectInvalidTarget(reply: Reply): void {
  expect(reply.status).toBe(400);
  expect(reply.body).toEqual({ error: 'invalid_target', error_description: expect.any(String) });
  expect(reply.body.error_description).toMatch(/^resource /);
}

describe('resource values (RFC 8707 §2)', () => {
  it.each([
    ['a relative path', '/orders'],
    ['a relative reference', 'orders.example.test/api'],
    ['a URI with a fragment', `${ORDERS}#section`],
    ['an empty value', ''],
    ['a URI with a space', 'https://orders.example.test/a b'],
    ['an unregistered resource', UNREGISTERED],
    ['a registered resource spelled differently', `${ORDERS}/`],
  ])('%s is invalid_target (client_credentials and password)', async (_name, value) => {
    expectInvalidTarget(await tokenRequest(app, { grant_type: 'client_credentials' }, [value]));
    expectInvalidTarget(await login([ORDERS, value]));
  });

  it('a client with no registered resources cannot name any, not even its own id', async () => {
    expectInvalidTarget(
      await tokenRequest(plain, { grant_type: 'client_credentials' }, [plain.client.id]),
    );
  });

  it('an absolute URI of any scheme that is registered is accepted; duplicates collapse', async () => {
    const reply = await tokenRequest(app, { grant_type: 'client_credentials' }, [BILLING, BILLING]);
    expect(reply.status).toBe(200);
    expect(aud(reply)).toBe(BILLING);
  });

  it('more than 20 values is invalid_request', async () => {
    const reply = await tokenRequest(
      app,
      { grant_type: 'client_credentials' },
      Array.from({ length: 21 }, () => ORDERS),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
    expect(reply.body.error_description).toBe('resource must list at most 20');
  });
});

describe('only resource may repeat', () => {
  it('a repeated non-resource parameter is still invalid_request, resource or not', async () => {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app) },
      body: `grant_type=client_credentials&resource=${encodeURIComponent(ORDERS)}&scope=api:read&scope=api:write`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Parameter scope is repeated',
    });
  });

  it('JSON: resource may be a list of strings; other parameters may not', async () => {
    const ok = await jsonRequest({ grant_type: 'client_credentials', resource: [ORDERS, BILLING] });
    expect(ok.status).toBe(200);
    expect(aud(ok)).toEqual([ORDERS, BILLING]);
    const single = await jsonRequest({ grant_type: 'client_credentials', resource: ORDERS });
    expect(aud(single)).toBe(ORDERS);
    for (const [body, description] of [
      [{ grant_type: 'client_credentials', scope: ['api:read'] }, 'scope must be a string'],
      [
        { grant_type: 'client_credentials', resource: [ORDERS, 5] },
        'resource must be a string or a list of strings',
      ],
    ] as const) {
      const bad = await jsonRequest(body);
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ error: 'invalid_request', error_description: description });
    }
  });
});

describe('the login grants resources; refreshes narrow them (RFC 8707 §2.2)', () => {
  it('a password login for one resource, refreshed for it again', async () => {
    const first = await login([ORDERS]);
    expect(first.status).toBe(200);
    expect(aud(first)).toBe(ORDERS);
    const next = await refresh(first.body.refresh_token as string);
    expect(next.status).toBe(200);
    expect(aud(next)).toBe(ORDERS);
  });

  it('a refresh may narrow to one resource, and the family keeps both', async () => {
    const first = await login([ORDERS, BILLING]);
    expect(aud(first)).toEqual([ORDERS, BILLING]);
    const narrowed = await refresh(first.body.refresh_token as string, [BILLING]);
    expect(narrowed.status).toBe(200);
    expect(aud(narrowed)).toBe(BILLING);
    const whole = await refresh(narrowed.body.refresh_token as string);
    expect(aud(whole)).toEqual([ORDERS, BILLING]);
  });

  it('a refresh that widens is invalid_target, before the refresh token is rotated', async () => {
    const first = await login([ORDERS]);
    const token = first.body.refresh_token as string;
    expectInvalidTarget(await refresh(token, [BILLING]));
    expectInvalidTarget(await refresh(token, [ORDERS, BILLING]));
    expectInvalidTarget(await refresh(token, ['relative']));
    // Nothing was rotated: the token still works, once.
    const next = await refresh(token);
    expect(next.status).toBe(200);
    expect(aud(next)).toBe(ORDERS);
  });

  it('a retry of a rotation (the retry window) keeps the resources', async () => {
    const first = await login([ORDERS, BILLING]);
    const token = first.body.refresh_token as string;
    const rotated = await refresh(token, [ORDERS]);
    expect(rotated.status).toBe(200);
    // The answer was "lost": the same token again hands back the same successor.
    const retried = await refresh(token);
    expect(retried.status).toBe(200);
    expect(retried.body.refresh_token).toBe(rotated.body.refresh_token);
    expect(aud(retried)).toEqual([ORDERS, BILLING]);
    const narrowed = await refresh(token, [BILLING]);
    expect(narrowed.body.refresh_token).toBe(rotated.body.refresh_token);
    expect(aud(narrowed)).toBe(BILLING);
    expectInvalidTarget(await refresh(token, [UNREGISTERED]));
  });

  it('/refresh checks resource the same way', async () => {
    const first = await login([ORDERS]);
    const token = first.body.refresh_token as string;
    expectInvalidTarget(await tokenRequest(app, { refresh_token: token }, [BILLING], '/refresh'));
    const ok = await tokenRequest(app, { refresh_token: token }, [ORDERS], '/refresh');
    expect(ok.status).toBe(200);
    expect(aud(ok)).toBe(ORDERS);
  });

  it('a login without resource has the default audience; a refresh may name a registered one', async () => {
    const first = await login();
    expect(aud(first)).toEqual([ORDERS, BILLING]);
    const token = first.body.refresh_token as string;
    expectInvalidTarget(await refresh(token, [UNREGISTERED]));
    const narrowed = await refresh(token, [ORDERS]);
    expect(narrowed.status).toBe(200);
    expect(aud(narrowed)).toBe(ORDERS);
  });

  it('scope and resource narrow together; scopes are not per resource', async () => {
    const first = await tokenRequest(
      app,
      {
        grant_type: 'password',
        username: user.email,
        password: PASSWORD,
        scope: 'api:read api:write',
      },
      [ORDERS, BILLING],
    );
    const next = await tokenRequest(
      app,
      {
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token as string,
        scope: 'api:read',
      },
      [BILLING],
    );
    expect(next.status).toBe(200);
    expect(decodeJwt(next.body.access_token as string).payload).toMatchObject({
      aud: BILLING,
      scope: 'api:read',
    });
  });
});
