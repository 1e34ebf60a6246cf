/**
 * GET /.well-known/jwks.json — served from memory (no database hit), cacheable for
 * JWKS_MAX_AGE seconds, with a strong ETag and 304 on If-None-Match.
 */
import type { Middleware } from 'koa';
import type { JwksDocument, KeyStore } from '../../keys/key-store';
import type { AppState } from '../types';

export const JWKS_PATH = '/.well-known/jwks.json';

export function jwks(keyStore: KeyStore, maxAgeSeconds: number): Middleware<AppState> {
  const cacheControl = `public, max-age=${maxAgeSeconds}`;
  // The body as bytes, remade only when the key set changes (this endpoint is polled hard;
  // headers go straight to the Node response, skipping Koa's per-header bookkeeping).
  let cached: { doc: JwksDocument; body: Buffer } | undefined;
  return (ctx) => {
    const doc = keyStore.jwks();
    if (cached?.doc !== doc) cached = { doc, body: Buffer.from(doc.body) };
    const res = ctx.res;
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('ETag', doc.etag);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const ifNoneMatch = ctx.req.headers['if-none-match'];
    if (ifNoneMatch && matchesEtag(ifNoneMatch, doc.etag)) {
      ctx.status = 304;
      return;
    }
    res.setHeader('Content-Type', 'application/jwk-set+json');
    ctx.body = cached.body;
  };
}

function matchesEtag(header: string, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
