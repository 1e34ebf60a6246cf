/**
 * The log line of a refused request (status ≥ 400), written once by the error middleware so
 * that the request id shown to the client ("Reference" on error pages, X-Request-Id, the 5xx
 * body's request_id) can be matched to what happened:
 *
 * - 4xx at info: route, status, the `error` code, the client (authenticated, or the client_id
 *   it claimed), the public description and the internal cause;
 * - 5xx at error, with the error and its stack;
 * - 499 (the client hung up mid-request) at debug: nothing went wrong on our side.
 *
 * Only these named fields are logged — never the parameters, a header or a body value — and
 * the logger redacts secret field names besides (shared/logger.ts).
 */
import type { OAuthError } from '../../oauth/errors';
import type { AppContext } from '../types';

const MAX_FIELD = 200;

export function logRefusal(
  ctx: AppContext,
  thrown: { oauth: OAuthError; err: unknown } | undefined,
): void {
  const log = ctx.state.log as AppContext['state']['log'] | undefined;
  if (!log) return; // a bare Koa app (unit tests) without requestContext
  const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
  const fields = {
    status: ctx.status,
    method: ctx.method,
    route: matched === undefined ? 'unmatched' : String(matched),
    ...(matched === undefined ? { path: clean(ctx.path) } : {}),
    clientId: ctx.state.client?.id ?? claimedClientId(ctx),
    error: thrown?.oauth.error ?? ctx.state.rejection?.error,
    description: thrown?.oauth.description ?? ctx.state.rejection?.description,
  };
  if (ctx.status === 499) {
    log.debug(fields, 'client closed request');
  } else if (ctx.status >= 500) {
    log.error(
      { ...fields, err: thrown ? (thrown.oauth.cause ?? thrown.err) : undefined },
      'request failed',
    );
  } else {
    log.info({ ...fields, cause: describeCause(thrown?.oauth.cause) }, 'request rejected');
  }
}

/**
 * The client_id a client that failed (or never reached) authentication claimed: from the
 * body, or the id half of `Authorization: Basic` (RFC 6749 §2.3.1) — never the secret half.
 * Client ids are public (RFC 6749 §2.2).
 */
function claimedClientId(ctx: AppContext): string | undefined {
  const fromBody = ctx.state.params?.client_id;
  if (fromBody) return clean(fromBody);
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(ctx.get('authorization'));
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined; // no separator: the whole value may be a secret
  try {
    return clean(decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')));
  } catch {
    return undefined;
  }
}

/** The internal reason: the message of the cause (our own wording, never a request value). */
function describeCause(cause: unknown): string | undefined {
  if (cause instanceof Error) return clean(cause.message);
  return typeof cause === 'string' ? clean(cause) : undefined;
}

/** Printable, bounded: a client-chosen value cannot forge log structure or flood a line. */
function clean(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > MAX_FIELD ? `${printable.slice(0, MAX_FIELD)}…` : printable;
}
