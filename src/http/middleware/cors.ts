/**
 * CORS for browser clients (single-page apps calling /token, /refresh and /revoke): an
 * Origin is allowed only when it is the origin of a redirect URI registered by some enabled
 * client — the same origins the authorization flow already trusts. Anything else gets no CORS
 * headers, so the browser keeps the response from the page. No credentials mode: these
 * endpoints take client credentials and tokens in the request, never cookies. Each origin is
 * looked up in the clients' indexed redirect origins and its answer cached for a few seconds,
 * so the check costs the same with ten clients or a million.
 */
import type { Middleware } from 'koa';
import type { ClientRepository } from '../../clients/client-storage';
import type { Clock } from '../../shared/clock';
import type { AppContext, AppState } from '../types';

const CACHE_SECONDS = 10;
/** Origins whose answer is remembered; the least recently asked are forgotten first. */
const MAX_CACHED_ORIGINS = 10_000;

export interface ClientCors {
  /** For the endpoint's own pipeline: adds CORS headers to the response when the Origin is allowed. */
  actual: Middleware<AppState>;
  /** OPTIONS handler (the CORS preflight). */
  preflight: Middleware<AppState>;
}

export function clientCors(
  deps: { clients: Pick<ClientRepository, 'hasRedirectOrigin'>; clock: Clock },
  methods = 'POST',
): ClientCors {
  // One answer per origin (allowed or not), each asked of the database's index at most once
  // per CACHE_SECONDS however many requests bring it: concurrent requests share the question.
  const cache = new Map<string, { answer: Promise<boolean>; until: number }>();
  function isAllowedOrigin(origin: string): Promise<boolean> {
    const now = deps.clock.now().getTime();
    const hit = cache.get(origin);
    if (hit && hit.until > now) {
      cache.delete(origin);
      cache.set(origin, hit);
      return hit.answer;
    }
    const answer = deps.clients.hasRedirectOrigin(origin);
    const entry = { answer, until: now + CACHE_SECONDS * 1000 };
    cache.delete(origin);
    cache.set(origin, entry);
    if (cache.size > MAX_CACHED_ORIGINS) cache.delete(cache.keys().next().value!);
    // A failed look-up is not remembered: the next request asks again.
    answer.catch(() => {
      if (cache.get(origin) === entry) cache.delete(origin);
    });
    return answer;
  }

  async function allowed(ctx: AppContext): Promise<string | undefined> {
    const origin = ctx.get('origin');
    if (!origin || origin === 'null' || origin.length > 300) return undefined;
    return (await isAllowedOrigin(origin)) ? origin : undefined;
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
