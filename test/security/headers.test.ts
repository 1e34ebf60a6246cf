/**
 * Security headers on every response of every route in the table, errors included
 * (X-Content-Type-Options, Referrer-Policy, framing), and HSTS only when the issuer is https.
 */
import { buildRouter } from '../../src/http/routes';
import { startTestServer, type TestServer } from '../support/server';

let plain: TestServer;
let tls: TestServer;
beforeAll(async () => {
  plain = await startTestServer();
  // Behind a TLS-terminating proxy: the issuer is https even though the test speaks http.
  tls = await startTestServer({ env: { ISSUER: 'https://id.example.com' } });
});
afterAll(async () => {
  await Promise.all([plain?.stop(), tls?.stop()]);
});

function everyRoute(server: TestServer): [string, string][] {
  const routes = buildRouter(server.services)
    .stack.filter((l) => l.methods.length > 0)
    .flatMap((l) =>
      l.methods.filter((m) => m !== 'HEAD').map((m) => [m, String(l.path)] as [string, string]),
    );
  // Plus what is answered outside the routes: unknown path (404) and wrong method (405).
  return [...routes, ['GET', '/no/such/path'], ['DELETE', '/token']];
}

describe('security headers', () => {
  it('every route answers with nosniff, no-referrer and no framing, and without HSTS on an http issuer', async () => {
    for (const [method, path] of everyRoute(plain)) {
      const res = await fetch(`${plain.url}${path}`, { method, redirect: 'manual' });
      const where = `${method} ${path} (${res.status})`;
      expect([where, res.headers.get('x-content-type-options')]).toEqual([where, 'nosniff']);
      expect([where, res.headers.get('referrer-policy')]).toEqual([where, 'no-referrer']);
      expect([where, res.headers.get('x-frame-options')]).toEqual([where, 'DENY']);
      expect([where, res.headers.get('strict-transport-security')]).toEqual([where, null]);
    }
  });

  it('an https issuer adds Strict-Transport-Security to every response', async () => {
    for (const [method, path] of everyRoute(tls)) {
      const res = await fetch(`${tls.url}${path}`, { method, redirect: 'manual' });
      expect([`${method} ${path}`, res.headers.get('strict-transport-security')]).toEqual([
        `${method} ${path}`,
        expect.stringMatching(/^max-age=\d{8,}/),
      ]);
    }
  });
});
