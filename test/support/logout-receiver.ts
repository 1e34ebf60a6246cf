/**
 * A relying party's back-channel logout endpoint for the tests: a real HTTP server on
 * 127.0.0.1 that takes `logout_token` form posts (Back-Channel Logout 1.0 §2.5), keeps what it
 * received and answers as the test says — 200, 400 (token refused), 500, or not until released
 * (`hold`). It can be down: its port is reserved but nothing listens until listen().
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { freePort, type TestServer } from './server';

export type ReceiverMode = 'ok' | 'reject' | 'error' | 'hold';

export class LogoutReceiver {
  mode: ReceiverMode = 'ok';
  /** The logout tokens received, in order (every attempt, whatever the answer). */
  readonly tokens: string[] = [];
  /** Requests that were not form posts of a logout_token. */
  readonly malformed: string[] = [];
  private readonly held: ServerResponse[] = [];
  private waiters: (() => void)[] = [];
  private server: Server | undefined;

  private constructor(readonly port: number) {}

  /** A receiver on a free port; listening unless `down`. */
  static async start(options: { down?: boolean } = {}): Promise<LogoutReceiver> {
    const receiver = new LogoutReceiver(await freePort());
    if (!options.down) await receiver.listen();
    return receiver;
  }

  get uri(): string {
    return `http://127.0.0.1:${this.port}/backchannel-logout`;
  }

  get heldCount(): number {
    return this.held.length;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        const form = req.headers['content-type'] === 'application/x-www-form-urlencoded';
        if (req.method !== 'POST' || !form || !token || req.url !== '/backchannel-logout') {
          this.malformed.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
          res.writeHead(400).end();
          return;
        }
        this.tokens.push(token);
        for (const wake of this.waiters.splice(0)) wake();
        // §2.8: the RP answers with Cache-Control: no-store.
        const headers = { 'cache-control': 'no-store' };
        if (this.mode === 'hold') this.held.push(res);
        else res.writeHead({ ok: 200, reject: 400, error: 500 }[this.mode], headers).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Answers the held requests with 200. */
  release(): void {
    for (const res of this.held.splice(0)) res.writeHead(200).end();
  }

  /** Resolves once `count` tokens have arrived in all; fails after `timeoutMs`. */
  async received(count: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.tokens.length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `expected ${count} logout tokens at ${this.uri}, got ${this.tokens.length}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.tokens.slice(0, count);
  }

  async close(): Promise<void> {
    this.release();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * What an RP checks of a logout token (§2.6), with jose against the server's published JWKS:
 * signature with a pinned algorithm, `typ` logout+jwt, `iss`, `aud`, `iat`/`exp`, the
 * back-channel event, and no `nonce`. Returns the claims.
 */
export async function verifyLogoutToken(
  server: TestServer,
  token: string,
  clientId: string,
): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: server.config.issuer,
    audience: clientId,
    typ: 'logout+jwt',
    algorithms: ['RS256', 'ES256'],
    requiredClaims: ['iat', 'exp', 'jti', 'events'],
    currentDate: server.clock.now(),
  });
  expect(protectedHeader.typ).toBe('logout+jwt');
  expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
  expect(payload).not.toHaveProperty('nonce');
  expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
  return payload;
}
