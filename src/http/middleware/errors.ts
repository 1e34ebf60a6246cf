/**
 * The one place errors become responses. OAuthErrors become their RFC JSON body, status and
 * headers; client mistakes caught by Koa (bad JSON, too-large bodies) become invalid_request;
 * an unreachable database becomes 503 temporarily_unavailable; anything else is logged with
 * the request id and answered as a generic server_error with no detail.
 *
 * It is also where every refused request is logged, once (request-log.ts): 4xx at info, 5xx
 * at error, a client that hung up at debug.
 */
import type { Middleware } from 'koa';
import { OAuthError, ServerError, TemporarilyUnavailable } from '../../oauth/errors';
import { isDatabaseUnavailable } from '../../persistence/errors';
import type { AppState } from '../types';
import { logRefusal } from './request-log';

export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (isDatabaseUnavailable(err)) {
    return new TemporarilyUnavailable('The service is temporarily unavailable; retry shortly', {
      cause: err,
      headers: { 'Retry-After': '1' },
    });
  }
  const status = (err as { status?: unknown; expose?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const expose = (err as { expose?: boolean }).expose;
    const message =
      expose && err instanceof Error ? err.message : 'The request could not be processed';
    return new OAuthError(status === 404 ? 'not_found' : 'invalid_request', status, message, {
      cause: err,
    });
  }
  return new ServerError('The server encountered an unexpected error', { cause: err });
}

export function errorHandler(): Middleware<AppState> {
  return async (ctx, next) => {
    let thrown: { oauth: OAuthError; err: unknown } | undefined;
    try {
      await next();
    } catch (err) {
      const oauth = toOAuthError(err);
      thrown = { oauth, err };
      ctx.status = oauth.status;
      for (const [k, v] of Object.entries(oauth.headers)) ctx.set(k, v);
      if (oauth.status >= 500) ctx.set('Cache-Control', 'no-store');
      ctx.body =
        oauth.status >= 500
          ? { ...oauth.toJSON(), request_id: ctx.state.requestId }
          : oauth.toJSON();
    }
    if (ctx.status >= 400) logRefusal(ctx, thrown);
  };
}
