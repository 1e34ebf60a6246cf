/** Response headers: security headers on everything, no-store where tokens or credentials flow. */
import type { Middleware } from 'koa';
import type { AppState } from '../types';

export function securityHeaders(options: { https: boolean }): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

/** RFC 6749 §5.1: responses with tokens or credentials must not be cached. */
export function noStore(): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    await next();
  };
}
