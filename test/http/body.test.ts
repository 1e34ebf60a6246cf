/**
 * parseParams (src/http/middleware/body.ts) behind the real request-id and error middleware, on
 * a tiny Koa app that echoes the parsed parameters: every malformed body is a 4xx RFC 6749 JSON
 * error, never a 500.
 */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { errorHandler } from '../../src/http/middleware/errors';
import { parseParams, type BodyOptions } from '../../src/http/middleware/body';
import { requestId } from '../../src/http/middleware/request-id';
import type { AppState } from '../../src/http/types';
import { createLogger } from '../../src/shared/logger';

const LIMIT = 1024;

function echoApp(options: BodyOptions): Koa<AppState> {
  const app = new Koa<AppState>();
  app.silent = true;
  app.use(requestId());
  app.use(async (ctx, next) => {
    ctx.state.log = createLogger('silent');
    await next();
  });
  app.use(errorHandler());
  app.use(parseParams(options));
  app.use((ctx) => {
    ctx.body = { params: ctx.state.params };
  });
  return app;
}

interface Reply {
  status: number;
  body: { error?: string; error_description?: string; params?: Record<string, string> };
}

/** A raw HTTP request; `chunks` without content-length are sent chunked. */
function send(
  server: Server,
  path: string,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<Reply> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          body: JSON.parse(Buffer.concat(parts).toString('utf8')),
        }),
      );
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err),
    );
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const form = 'application/x-www-form-urlencoded';
const json = 'application/json';

function post(
  server: Server,
  type: string | null,
  body: string | Buffer,
  path = '/',
): Promise<Reply> {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers: Record<string, string> = { 'content-length': String(buf.length) };
  if (type) headers['content-type'] = type;
  return send(server, path, headers, [buf]);
}

let server: Server;
let formOnly: Server;
beforeAll(async () => {
  server = echoApp({ limitBytes: LIMIT, includeQuery: true }).listen(0, '127.0.0.1');
  formOnly = echoApp({ limitBytes: LIMIT, json: false }).listen(0, '127.0.0.1');
  await Promise.all([server, formOnly].map((s) => new Promise((r) => s.once('listening', r))));
});
afterAll(async () => {
  await Promise.all([server, formOnly].map((s) => new Promise((r) => s.close(r))));
});

describe('parseParams accepts', () => {
  it.each([
    ['a form body', form, 'grant_type=password&username=a%40b.example&scope=openid+profile'],
    [
      'a form body with a charset',
      `${form}; charset=utf-8`,
      'grant_type=password&username=a%40b.example&scope=openid+profile',
    ],
    [
      'a flat JSON object',
      json,
      JSON.stringify({ grant_type: 'password', username: 'a@b.example', scope: 'openid profile' }),
    ],
  ])('%s', async (_name, type, body) => {
    const res = await post(server, type, body);
    expect(res.status).toBe(200);
    expect(res.body.params).toEqual({
      grant_type: 'password',
      username: 'a@b.example',
      scope: 'openid profile',
    });
  });

  it('UTF-8 text, and __proto__ as a plain key', async () => {
    const res = await post(server, form, `name=${encodeURIComponent('Zoë 🙂')}&__proto__=x`);
    expect(res.status).toBe(200);
    expect(res.body.params).toEqual(JSON.parse('{"name":"Zoë 🙂","__proto__":"x"}'));
  });

  it('an empty body', async () => {
    const res = await post(server, null, '');
    expect(res).toEqual({ status: 200, body: { params: {} } });
  });
});

describe('parseParams rejects', () => {
  it.each([
    ['malformed JSON', json, '{"grant_type": "password",'],
    ['a JSON array', json, '["grant_type"]'],
    ['a JSON string', json, '"grant_type"'],
    ['a nested JSON value', json, JSON.stringify({ grant_type: { $ne: null } })],
    ['a JSON array value', json, JSON.stringify({ scope: ['openid', 'profile'] })],
    [
      'a repeated form parameter (RFC 6749 §3.1)',
      form,
      'grant_type=password&grant_type=refresh_token',
    ],
  ])('%s with 400 invalid_request', async (_name, type, body) => {
    const res = await post(server, type, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toEqual(expect.any(String));
  });

  it.each([
    ['invalid UTF-8 bytes in a form body', form, Buffer.from([0x61, 0x3d, 0xff, 0xfe, 0x80])],
    [
      'a truncated UTF-8 sequence in a JSON body',
      json,
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]),
    ],
  ])('%s with 400 invalid_request', async (_name, type, body) => {
    const res = await post(server, type, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'Request body is not valid UTF-8',
    });
  });

  it.each([
    ['a percent-encoded byte that is not UTF-8', 'username=a&password=%FF'],
    ['a percent-encoded truncated UTF-8 sequence', 'password=%E2%82'],
    ['a malformed percent escape', 'password=%zz'],
  ])('%s in a form body with 400 invalid_request (never silently U+FFFD)', async (_name, body) => {
    const res = await post(server, form, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'Parameters are not valid percent-encoded UTF-8',
    });
  });

  it('a parameter repeated between the query string and the body', async () => {
    const res = await post(server, form, 'client_id=b', '/?client_id=a');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a body over the limit by its Content-Length with 413 invalid_request', async () => {
    const res = await post(server, form, `a=${'x'.repeat(LIMIT)}`);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a chunked body that grows over the limit with 413 invalid_request', async () => {
    const chunk = Buffer.from(`a=${'x'.repeat(600)}`);
    const res = await send(server, '/', { 'content-type': form, 'transfer-encoding': 'chunked' }, [
      chunk,
      Buffer.from('x'.repeat(600)),
    ]);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
  });

  it.each([
    ['text/plain', server, 'text/plain', 'grant_type=password'],
    ['multipart/form-data', server, 'multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
    ['no Content-Type', server, null, 'grant_type=password'],
    ['JSON where only forms are accepted', 'formOnly', json, '{"grant_type":"password"}'],
  ] as const)('%s with 415 invalid_request', async (_name, target, type, body) => {
    const res = await post(target === 'formOnly' ? formOnly : server, type, body);
    expect(res.status).toBe(415);
    expect(res.body.error).toBe('invalid_request');
  });
});
