/**
 * GET /.well-known/jwks.json — served from memory (no database hit), cacheable for
 * JWKS_MAX_AGE seconds, with a strong ETag and 304 on If-None-Match.
 *
 * The most polled endpoint (every gateway and resource server refreshes it), so an ordinary
 * GET or HEAD of it is answered by the HTTP server's request listener ahead of Koa
 * (jwksFastPath): the same reply, request id, security headers and request metrics as the Koa
 * route, without building a Koa context. Anything unusual — a request body, debug logging —
 * goes through Koa and the route below, so one reply (jwksReplies) serves both.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { JwksDocument, KeyStore } from '../../keys/key-store';
import { httpRequestMetrics } from '../../observability/metrics';
import type { Logger } from '../../shared/logger';
import { startResponse } from '../middleware/request-context';
import type { AppState } from '../types';

export const JWKS_PATH = '/.well-known/jwks.json';

export interface JwksReply {
  status: 200 | 304;
  headers: ReadonlyArray<readonly [string, string]>;
  /** The document (also for HEAD: its length is the Content-Length); none for 304. */
  body: Buffer | undefined;
}

/** The reply for a request's If-None-Match, remade only when the key set changes. */
export function jwksReplies(
  keyStore: Pick<KeyStore, 'jwks'>,
  maxAgeSeconds: number,
): (ifNoneMatch: string | undefined) => JwksReply {
  const cacheControl = `public, max-age=${maxAgeSeconds}`;
  let cached: { doc: JwksDocument; ok: JwksReply; notModified: JwksReply } | undefined;
  return (ifNoneMatch) => {
    const doc = keyStore.jwks();
    if (cached?.doc !== doc) {
      const headers = [
        ['Cache-Control', cacheControl],
        ['ETag', doc.etag],
        ['Access-Control-Allow-Origin', '*'],
      ] as const;
      const body = Buffer.from(doc.body);
      cached = {
        doc,
        ok: {
          status: 200,
          headers: [
            ...headers,
            ['Content-Type', 'application/jwk-set+json'],
            ['Content-Length', String(body.length)],
          ],
          body,
        },
        notModified: { status: 304, headers, body: undefined },
      };
    }
    return ifNoneMatch && matchesEtag(ifNoneMatch, doc.etag) ? cached.notModified : cached.ok;
  };
}

/** The Koa route (requests the fast path leaves to Koa). */
export function jwks(
  keyStore: Pick<KeyStore, 'jwks'>,
  maxAgeSeconds: number,
): Middleware<AppState> {
  const reply = jwksReplies(keyStore, maxAgeSeconds);
  return (ctx) => {
    const r = reply(ctx.req.headers['if-none-match']);
    ctx.status = r.status;
    // Headers straight to the Node response, skipping Koa's per-header bookkeeping.
    for (const [name, value] of r.headers) ctx.res.setHeader(name, value);
    if (r.body) ctx.body = r.body;
  };
}

/**
 * The request listener's shortcut: answers an ordinary GET or HEAD of the JWKS path and returns
 * true, or returns false, touching nothing, for Koa to handle the request.
 */
export function jwksFastPath(
  keyStore: Pick<KeyStore, 'jwks'>,
  maxAgeSeconds: number,
  frame: { log: Logger; securityHeaders: ReadonlyArray<readonly [string, string]> },
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const reply = jwksReplies(keyStore, maxAgeSeconds);
  return (req, res) => {
    const { method, url, headers } = req;
    if (
      (method !== 'GET' && method !== 'HEAD') ||
      !url ||
      !(url === JWKS_PATH || url.startsWith(`${JWKS_PATH}?`))
    )
      return false;
    // A body must be refused or drained (Koa's unreadBodyGuard); debug logging logs each request.
    const length = headers['content-length'];
    if (
      (length !== undefined && length !== '0') ||
      headers['transfer-encoding'] !== undefined ||
      frame.log.isLevelEnabled('debug')
    )
      return false;
    const started = performance.now();
    const incomingId = headers['x-request-id'];
    startResponse(res, typeof incomingId === 'string' ? incomingId : '', frame.securityHeaders);
    const r = reply(headers['if-none-match']);
    res.statusCode = r.status;
    for (const [name, value] of r.headers) res.setHeader(name, value);
    res.end(method === 'GET' ? r.body : undefined);
    httpRequestMetrics.record(method, JWKS_PATH, r.status, (performance.now() - started) / 1000);
    return true;
  };
}

function matchesEtag(header: string, etag: string): boolean {
  if (!header) return false;
  return (
    header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
  );
}
