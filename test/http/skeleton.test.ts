import { useTestServer } from '../support/server';

const server = useTestServer();

describe('HTTP skeleton', () => {
  it('GET /healthz answers 200 with a request id', async () => {
    const res = await fetch(`${server().url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /readyz is 200 when the database answers and keys are loaded', async () => {
    const res = await fetch(`${server().url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', signing_keys: 'ok' },
    });
  });

  it('echoes a well-formed incoming X-Request-Id and replaces a malformed one', async () => {
    const good = await fetch(`${server().url}/healthz`, {
      headers: { 'x-request-id': 'abc-12345678' },
    });
    expect(good.headers.get('x-request-id')).toBe('abc-12345678');
    const bad = await fetch(`${server().url}/healthz`, {
      headers: { 'x-request-id': 'bad id <script>' },
    });
    expect(bad.headers.get('x-request-id')).not.toBe('bad id <script>');
  });

  it('unknown routes get a JSON 404', async () => {
    const res = await fetch(`${server().url}/no/such/thing`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ error: 'not_found', error_description: expect.any(String) });
  });

  it('a known route with the wrong method gets 405 with Allow', async () => {
    const res = await fetch(`${server().url}/healthz`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
    expect((await res.json()).error).toBe('method_not_allowed');
  });

  it('sets security headers on every response', async () => {
    const res = await fetch(`${server().url}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });
});
