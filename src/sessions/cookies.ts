/**
 * Cookies of the browser-facing pages. Written by hand rather than through Koa's cookie jar,
 * which refuses `Secure` cookies when TLS ends at a proxy Koa is not told to trust.
 *
 * On an https issuer the names carry the `__Host-` prefix (RFC 6265bis §4.1.3.2): the browser
 * then accepts them only with Secure, Path=/ and no Domain, so a sibling subdomain cannot plant
 * or overwrite them (session fixation, CSRF-token injection).
 */
import type { AppContext } from '../http/types';

export interface CookieOptions {
  /** Seconds until expiry; omitted for a browser-session cookie; 0 deletes it. */
  maxAge?: number;
}

export interface CookieJar {
  readonly sessionName: string;
  readonly browserName: string;
  get(ctx: AppContext, name: string): string | undefined;
  set(ctx: AppContext, name: string, value: string, options?: CookieOptions): void;
  clear(ctx: AppContext, name: string): void;
}

const VALUE = /^[A-Za-z0-9_-]{1,512}$/;

export function cookieJar(issuer: string): CookieJar {
  const secure = issuer.startsWith('https:');
  const prefix = secure ? '__Host-' : '';
  const jar: CookieJar = {
    sessionName: `${prefix}tessera_session`,
    browserName: `${prefix}tessera_browser`,
    get(ctx, name) {
      const header = ctx.get('cookie');
      if (!header) return undefined;
      for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
        const value = part.slice(eq + 1).trim();
        // Our values are base64url; anything else was not set by us.
        return VALUE.test(value) ? value : undefined;
      }
      return undefined;
    },
    set(ctx, name, value, options = {}) {
      const attrs = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
      if (secure) attrs.push('Secure');
      if (options.maxAge !== undefined)
        attrs.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`);
      ctx.append('Set-Cookie', attrs.join('; '));
    },
    clear(ctx, name) {
      jar.set(ctx, name, 'deleted', { maxAge: 0 });
    },
  };
  return jar;
}
