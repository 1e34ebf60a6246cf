/**
 * Logs never carry secrets: the logger redacts by field name (src/shared/logger.ts), and a
 * request carrying a password and client credentials leaves no trace of them at debug level.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { errorHandler } from '../../src/http/middleware/errors';
import { parseParams } from '../../src/http/middleware/body';
import { requestId } from '../../src/http/middleware/request-id';
import type { AppState } from '../../src/http/types';
import { createLogger, type Logger } from '../../src/shared/logger';
import { startTestServer } from '../support/server';

/** A logger writing JSON lines into memory. */
function captured(level = 'debug'): {
  log: Logger;
  lines: () => Record<string, unknown>[];
  text: () => string;
} {
  const out: string[] = [];
  const log = createLogger(level, { write: (line: string) => void out.push(line) });
  return {
    log,
    text: () => out.join(''),
    lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const PASSWORD = 'correct-horse-battery-staple';
const SECRET = 'client-secret-4f9a8b7c6d5e';
const REFRESH = 'refresh-token-0a1b2c3d4e5f';
const BEARER = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
const BASIC = Buffer.from(`my-client:${SECRET}`).toString('base64');
const ALL = [PASSWORD, SECRET, REFRESH, BEARER, BASIC];

describe('createLogger redaction', () => {
  it.each([
    [
      'top-level fields',
      { password: PASSWORD, client_secret: SECRET, refresh_token: REFRESH, access_token: BEARER },
    ],
    [
      'a request body',
      {
        body: {
          grant_type: 'password',
          username: 'a@b.example',
          password: PASSWORD,
          client_secret: SECRET,
        },
      },
    ],
    [
      'request headers',
      { req: { headers: { authorization: `Basic ${BASIC}`, cookie: `sid=${REFRESH}` } } },
    ],
    [
      'response headers two levels down',
      {
        res: { headers: { 'set-cookie': `sid=${REFRESH}` } },
        auth: { authorization: `Bearer ${BEARER}` },
      },
    ],
    ['nested params', { params: { refresh_token: REFRESH, code_verifier: SECRET, token: BEARER } }],
  ])('hides secrets in %s', (_name, obj) => {
    const { log, text, lines } = captured();
    log.info(obj, 'something happened');
    expect(lines()).toHaveLength(1);
    for (const s of ALL) expect(text()).not.toContain(s);
    expect(text()).toContain('[REDACTED]');
  });

  it('keeps what is not secret', () => {
    const { log, lines } = captured();
    log.info(
      { body: { grant_type: 'password', username: 'a@b.example', password: PASSWORD } },
      'login',
    );
    expect(lines()[0]).toMatchObject({
      level: 'info',
      msg: 'login',
      service: 'tessera',
      body: { grant_type: 'password', username: 'a@b.example', password: '[REDACTED]' },
    });
  });

  it('child loggers redact too', () => {
    const { log, text } = captured();
    log.child({ requestId: 'r-123456789' }).debug({ params: { password: PASSWORD } }, 'params');
    expect(text()).toContain('r-123456789');
    expect(text()).not.toContain(PASSWORD);
  });
});

describe('requests with secrets, logged at debug level', () => {
  it('a handler that logs parsed params and headers leaks nothing', async () => {
    const { log, text } = captured();
    const app = new Koa<AppState>();
    app.silent = true;
    app.use(requestId());
    app.use(async (ctx, next) => {
      ctx.state.log = log.child({ requestId: ctx.state.requestId });
      await next();
    });
    app.use(errorHandler());
    app.use(parseParams({ limitBytes: 4096 }));
    app.use((ctx) => {
      // A careless handler: everything it logs is redacted by field name.
      ctx.state.log.debug({ params: ctx.state.params, headers: ctx.headers }, 'careless');
      ctx.body = { ok: true };
    });
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as AddressInfo;
      const body = new URLSearchParams({
        grant_type: 'password',
        username: 'a@b.example',
        password: PASSWORD,
        refresh_token: REFRESH,
      });
      const res = await fetch(`http://127.0.0.1:${port}/token`, {
        method: 'POST',
        body,
        headers: { authorization: `Basic ${BASIC}` },
      });
      expect(res.status).toBe(200);
      // A rejected request (repeated parameter) logs its cause, not the values.
      const bad = await fetch(`http://127.0.0.1:${port}/token`, {
        method: 'POST',
        body: `password=${PASSWORD}&password=${PASSWORD}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(bad.status).toBe(400);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(text()).toContain('careless');
    expect(text()).toContain('request rejected');
    for (const s of ALL) expect(text()).not.toContain(s);
  });

  it('the real app logs no password, secret or credential sent to it', async () => {
    const { log, text } = captured();
    const server = await startTestServer({ logger: log });
    try {
      const form = new URLSearchParams({
        grant_type: 'password',
        username: 'demo@example.com',
        password: PASSWORD,
        client_secret: SECRET,
      });
      for (const path of ['/token', '/refresh', '/revoke', '/introspect']) {
        await fetch(`${server.url}${path}`, {
          method: 'POST',
          body: form,
          headers: { authorization: `Basic ${BASIC}` },
        });
      }
      await fetch(`${server.url}/token`, {
        method: 'POST',
        body: JSON.stringify({ refresh_token: REFRESH, password: PASSWORD }),
        headers: { 'content-type': 'application/json' },
      });
      await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${BEARER}` } });
    } finally {
      await server.stop();
    }
    expect(text()).toMatch(/"msg":"request"/);
    for (const s of ALL) expect(text()).not.toContain(s);
  });
});
