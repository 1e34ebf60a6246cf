/**
 * Every refused request leaves exactly one line at LOG_LEVEL=info (5xx at error), carrying the
 * request id that error bodies and pages show as "Reference", the route, the client (when
 * known), the `error` code and the internal reason — and never a secret or token it was sent.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/shared/logger';
import { makeClient, makeUser, basicAuth, type TestClient } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

const out: string[] = [];
let server: TestServer;
let app: TestClient;
beforeAll(async () => {
  server = await startTestServer({
    logger: createLogger('info', { write: (line: string) => void out.push(line) }),
  });
  app = await makeClient(server);
});
afterAll(async () => {
  await server?.stop();
});

const WRONG_PASSWORD = 'wrong-password-7f3e9d1c';
const WRONG_SECRET = 'wrong-secret-5b2a8c4e9f';
const BOGUS_REFRESH = 'bogus-refresh-token-3c9e7a1b5d';
const BOGUS_CODE = 'bogus-code-8d2f6a4c1e';

interface Case {
  name: string;
  send: () => Promise<{ path: string; init: RequestInit }>;
  expected: {
    status: number;
    route: string;
    error?: string;
    clientId?: () => string;
    reason: RegExp;
  };
  /** The secrets and tokens the request carried (read once the fixtures exist). */
  secrets: () => string[];
}

const form = (
  params: Record<string, string>,
  headers: Record<string, string> = {},
): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(params).toString(),
});

const cases: Case[] = [
  {
    name: 'invalid_grant: a wrong password',
    send: async () => ({
      path: '/token',
      init: form(
        {
          grant_type: 'password',
          username: (await makeUser(server)).email,
          password: WRONG_PASSWORD,
        },
        { authorization: basicAuth(app.client.id, app.secret!) },
      ),
    }),
    expected: {
      status: 400,
      route: '/token',
      error: 'invalid_grant',
      clientId: () => app.client.id,
      reason: /Invalid email or password/,
    },
    secrets: () => [WRONG_PASSWORD, app.secret!],
  },
  {
    name: 'invalid_grant: an unknown refresh token',
    send: async () => ({
      path: '/token',
      init: form(
        { grant_type: 'refresh_token', refresh_token: BOGUS_REFRESH },
        { authorization: basicAuth(app.client.id, app.secret!) },
      ),
    }),
    expected: {
      status: 400,
      route: '/token',
      error: 'invalid_grant',
      clientId: () => app.client.id,
      reason: /./,
    },
    secrets: () => [BOGUS_REFRESH, app.secret!],
  },
  {
    name: 'invalid_client: a wrong secret in the Basic header',
    send: async () => ({
      path: '/token',
      init: form(
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(app.client.id, WRONG_SECRET) },
      ),
    }),
    expected: {
      status: 401,
      route: '/token',
      error: 'invalid_client',
      clientId: () => app.client.id,
      reason: /Client authentication failed/,
    },
    secrets: () => [
      WRONG_SECRET,
      Buffer.from(`${app.client.id}:${WRONG_SECRET}`).toString('base64'),
    ],
  },
  {
    name: 'invalid_client: a wrong client_secret in the body',
    send: async () => ({
      path: '/revoke',
      init: form({ token: BOGUS_REFRESH, client_id: app.client.id, client_secret: WRONG_SECRET }),
    }),
    expected: {
      status: 401,
      route: '/revoke',
      error: 'invalid_client',
      clientId: () => app.client.id,
      reason: /Client authentication failed/,
    },
    secrets: () => [WRONG_SECRET, BOGUS_REFRESH],
  },
  {
    name: 'invalid_request: a repeated parameter',
    send: async () => ({
      path: '/token',
      init: {
        ...form({}, { authorization: basicAuth(app.client.id, app.secret!) }),
        body: `code=${BOGUS_CODE}&code=${BOGUS_CODE}`,
      },
    }),
    expected: {
      status: 400,
      route: '/token',
      error: 'invalid_request',
      reason: /code is repeated/,
    },
    secrets: () => [BOGUS_CODE, app.secret!],
  },
  {
    name: 'an error page: an unknown client at /authorize',
    send: async () => ({
      path: `/authorize?client_id=${randomUUID()}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code`,
      init: { method: 'GET' },
    }),
    expected: { status: 400, route: '/authorize', reason: /not registered/ },
    secrets: () => [],
  },
];

it.each(cases.map((c) => [c.name, c] as const))(
  '%s: one info line with the reference, route, client, error and reason',
  async (_name, c) => {
    const { path, init } = await c.send();
    const res = await fetch(`${server.url}${path}`, init);
    expect(res.status).toBe(c.expected.status);
    const reference = res.headers.get('x-request-id')!;
    const mine = out.filter((l) => l.includes(reference));
    expect(mine).toHaveLength(1);
    const line = JSON.parse(mine[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'info',
      requestId: reference,
      route: c.expected.route,
      status: c.expected.status,
    });
    if (c.expected.error) expect(line.error).toBe(c.expected.error);
    if (c.expected.clientId) expect(line.clientId).toBe(c.expected.clientId());
    expect(`${String(line.description)} ${String(line.cause)}`).toMatch(c.expected.reason);
    for (const secret of c.secrets()) expect(mine[0]).not.toContain(secret);
    expect(mine[0]).not.toMatch(/authorization|Basic /i);
  },
);
