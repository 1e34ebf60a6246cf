/** Response headers: security headers on everything, no-store where tokens or credentials flow. */
import type { Middleware } from 'koa';
import type { AppState } from '../types';

/** The security headers every response carries, computed once (app.ts sets them per request). */
export function securityHeaderList(options: {
  https: boolean;
}): ReadonlyArray<readonly [string, string]> {
  return [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ...(options.https
      ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as const]
      : []),
  ];
}

/** RFC 6749 §5.1: responses with tokens or credentials must not be cached. */
export function noStore(): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    await next();
  };
}
