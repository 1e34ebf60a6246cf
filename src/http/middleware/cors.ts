/**
 * CORS for browser clients (single-page apps calling /token, /refresh and /revoke): an
 * Origin is allowed only when it is the origin of a redirect URI registered by some enabled
 * client — the same origins the authorization flow already trusts. Anything else gets no CORS
 * headers, so the browser keeps the response from the page. No credentials mode: these
 * endpoints take client credentials and tokens in the request, never cookies. The origin list
 * is read from the clients table and cached for a few seconds.
 */
import type { Middleware } from 'koa';
import type { ClientRepository } from '../../clients/client-storage';
import type { Clock } from '../../shared/clock';
import type { AppContext, AppState } from '../types';

const CACHE_SECONDS = 10;

export interface ClientCors {
  /** For the endpoint's own pipeline: adds CORS headers to the response when the Origin is allowed. */
  actual: Middleware<AppState>;
  /** OPTIONS handler (the CORS preflight). */
  preflight: Middleware<AppState>;
}

export function clientCors(
  deps: { clients: Pick<ClientRepository, 'list'>; clock: Clock },
  methods = 'POST',
): ClientCors {
  let cached: { origins: Set<string>; until: number } | undefined;
  async function allowedOrigins(): Promise<Set<string>> {
    const now = deps.clock.now().getTime();
    if (cached && cached.until > now) return cached.origins;
    const origins = new Set<string>();
    for (const client of await deps.clients.list()) {
      if (client.disabled) continue;
      for (const uri of client.redirectUris) {
        const origin = originOf(uri);
        if (origin) origins.add(origin);
      }
    }
    cached = { origins, until: now + CACHE_SECONDS * 1000 };
    return origins;
  }

  async function allowed(ctx: AppContext): Promise<string | undefined> {
    const origin = ctx.get('origin');
    if (!origin || origin === 'null' || origin.length > 300) return undefined;
    return (await allowedOrigins()).has(origin) ? origin : undefined;
  }

  return {
    async actual(ctx, next) {
      ctx.vary('Origin');
      const origin = await allowed(ctx);
      if (origin) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set(
          'Access-Control-Expose-Headers',
          'WWW-Authenticate, Retry-After, X-Request-Id, DPoP-Nonce',
        );
      }
      await next();
    },
    async preflight(ctx) {
      ctx.vary('Origin');
      const origin = await allowed(ctx);
      if (origin) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Allow-Methods', methods);
        // DPoP: the proof header (RFC 9449 §4.1).
        ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, DPoP');
        ctx.set('Access-Control-Max-Age', '600');
      }
      ctx.status = 204;
    },
  };
}

/** `https://app.example.com:8443` for a redirect URI; undefined for custom schemes (native apps). */
function originOf(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
