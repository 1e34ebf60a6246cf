/**
 * GET /.well-known/jwks.json — served from memory (no database hit), cacheable for
 * JWKS_MAX_AGE seconds, with a strong ETag and 304 on If-None-Match.
 */
import type { Middleware } from 'koa';
import type { KeyStore } from '../../keys/key-store';
import type { AppState } from '../types';

export const JWKS_PATH = '/.well-known/jwks.json';

export function jwks(keyStore: KeyStore, maxAgeSeconds: number): Middleware<AppState> {
  const cacheControl = `public, max-age=${maxAgeSeconds}`;
  return (ctx) => {
    const doc = keyStore.jwks();
    ctx.set('Cache-Control', cacheControl);
    ctx.set('ETag', doc.etag);
    ctx.set('Access-Control-Allow-Origin', '*');
    if (matchesEtag(ctx.get('if-none-match'), doc.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/jwk-set+json';
    ctx.body = doc.body;
  };
}

function matchesEtag(header: string, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
