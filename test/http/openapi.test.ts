/**
 * GET /openapi.json serves docs/openapi.json, and that document describes exactly the route
 * table: every method and path the router serves is in it, and it names none the router lacks.
 */
import { readFileSync } from 'node:fs';
import { buildRouter } from '../../src/http/routes';
import { OPENAPI_FILE } from '../../src/http/endpoints/openapi';
import { startTestServer, type TestServer } from '../support/server';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'options', 'head', 'trace']);

let server: TestServer;
let doc: OpenApiDocument;
let routes: string[];

beforeAll(async () => {
  // Everything that can be switched on is, so its routes are in the table too: dynamic
  // registration, and the self-service pages (mail to a server that is never called).
  server = await startTestServer({
    env: { REGISTRATION: 'initial-token', SIGNUP: 'open', SMTP_URL: 'smtp://127.0.0.1:1' },
  });
  doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
  routes = buildRouter(server.services)
    .stack.filter((layer) => layer.methods.length > 0)
    .flatMap((layer) =>
      layer.methods
        .filter((m) => m !== 'HEAD')
        // Koa's `:name` path parameters are OpenAPI's `{name}`.
        .map((m) => `${m.toLowerCase()} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`),
    );
  expect(routes.length).toBeGreaterThan(10);
});
afterAll(async () => {
  await server?.stop();
});

const documented = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((k) => HTTP_METHODS.has(k))
      .map((m) => `${m} ${path}`),
  );

describe('GET /openapi.json', () => {
  it('serves the document from docs/openapi.json as JSON', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as OpenApiDocument;
    expect(body).toEqual(doc);
    expect(body.openapi).toBe('3.1.0');
  });

  it('documents every route of the route table', () => {
    const missing = routes.filter((r) => !documented().includes(r));
    expect(missing).toEqual([]);
  });

  it('documents no route the server does not have', () => {
    const extra = documented().filter((r) => !routes.includes(r));
    expect(extra).toEqual([]);
  });

  it('gives every operation at least one response', () => {
    const without = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([m, op]) => HTTP_METHODS.has(m) && Object.keys(op.responses ?? {}).length === 0)
        .map(([m]) => `${m} ${path}`),
    );
    expect(without).toEqual([]);
  });

  it('refuses other methods with 405', async () => {
    const res = await fetch(`${server.url}/openapi.json`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({
      error: 'method_not_allowed',
      error_description: expect.any(String),
    });
  });
});
