/**
 * Request parameters for OAuth endpoints: `application/x-www-form-urlencoded` (RFC 6749 §3.2)
 * or, for convenience, a flat `application/json` object with the same field names. The body is
 * read up to a byte limit (413 past it, never more read), every value must be a single string
 * (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once"),
 * and the result lands on `ctx.state.params`. The one exception is a parameter an endpoint
 * declares repeatable (RFC 8707 §2: `resource`): its values, in order, land on
 * `ctx.state.paramLists` instead, and it never appears in `ctx.state.params`.
 */
import type { Middleware } from 'koa';
import {
  ClientClosedRequest,
  InvalidRequest,
  OAuthError,
  PayloadTooLarge,
  UnsupportedMediaType,
} from '../../oauth/errors';
import type { AppContext, AppState } from '../types';

export interface BodyOptions {
  limitBytes: number;
  /** Also accept query-string parameters (GET /authorize, GET /userinfo). */
  includeQuery?: boolean;
  /** Accept JSON bodies (not for endpoints browsers post forms to). */
  json?: boolean;
  /**
   * Parameters that may be given more than once (RFC 8707 §2: `resource`), or in JSON as an
   * array of strings; every other parameter must still appear at most once.
   */
  repeatable?: readonly string[];
}

/** The parameters being parsed: the single-valued ones and the repeatable ones' values. */
interface Collected {
  params: Record<string, string>;
  lists: Record<string, string[]>;
  repeatable: ReadonlySet<string>;
}

export function parseParams(options: BodyOptions): Middleware<AppState> {
  const repeatable: ReadonlySet<string> = new Set(options.repeatable);
  return async (ctx, next) => {
    const params: Record<string, string> = {};
    const into: Collected = { params, lists: {}, repeatable };
    if (options.includeQuery) mergeForm(into, ctx.querystring);
    if (hasBody(ctx)) {
      const raw = await readBody(ctx, options.limitBytes);
      const type = ctx.request.type;
      if (type === 'application/x-www-form-urlencoded') {
        mergeForm(into, raw);
      } else if (type === 'application/json' && options.json !== false) {
        mergeJson(into, raw);
      } else if (raw.length > 0 || type) {
        throw new UnsupportedMediaType(
          'Content-Type must be application/x-www-form-urlencoded' +
            (options.json === false ? '' : ' or application/json'),
        );
      }
    }
    ctx.state.params = params;
    if (repeatable.size > 0) ctx.state.paramLists = into.lists;
    await next();
  };
}

/**
 * A JSON document body (`application/json`, an object), as dynamic client registration takes
 * (RFC 7591 §3.1): left on `ctx.state.document` whole, its values of any JSON type.
 */
export function jsonDocument(options: { limitBytes: number }): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.request.type !== 'application/json')
      throw new UnsupportedMediaType('Content-Type must be application/json');
    const raw = hasBody(ctx) ? await readBody(ctx, options.limitBytes) : '';
    ctx.state.document = jsonObject(raw);
    await next();
  };
}

/**
 * Global: a request whose body was not read (a route that takes none, or an early error) gets
 * the same treatment as a too-large one, so the body is neither drained nor left to hold the
 * connection open.
 */
export function unreadBodyGuard(): Middleware<AppState> {
  return async (ctx, next) => {
    await next();
    if (hasBody(ctx) && !ctx.req.complete) refuseRestOfBody(ctx);
  };
}

function hasBody(ctx: AppContext): boolean {
  const len = ctx.get('content-length');
  return Boolean(ctx.get('transfer-encoding')) || (len !== '' && len !== '0');
}

async function readBody(ctx: AppContext, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) {
    refuseRestOfBody(ctx);
    throw new PayloadTooLarge(`Request body exceeds ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        refuseRestOfBody(ctx);
        throw new PayloadTooLarge(`Request body exceeds ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    // Node reports a client that hung up mid-body as an ECONNRESET "aborted" error: the
    // client's doing, not an unreachable database (which ECONNRESET otherwise means here).
    if (!ctx.req.complete && !(err instanceof OAuthError))
      throw new ClientClosedRequest(
        'The client closed the connection before sending the whole body',
        { cause: err },
      );
    throw err;
  }
  const buf = Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new InvalidRequest('Request body is not valid UTF-8');
  }
}

/**
 * Stops reading a too-large body. Node would otherwise drain the rest to reuse the connection
 * (reading all of it), or — with the request paused — keep the half-closed socket open for as
 * long as the client keeps sending. So: answer with `Connection: close`, and drop the socket a
 * moment after the answer has been handed to the kernel (time for the client to read the 413).
 */
function refuseRestOfBody(ctx: AppContext): void {
  ctx.req.pause();
  ctx.set('Connection', 'close');
  const socket = ctx.req.socket as typeof ctx.req.socket | null;
  ctx.res.once('finish', () => setTimeout(() => socket?.destroy(), 500).unref());
}

/**
 * application/x-www-form-urlencoded, decoded strictly: a percent-encoded byte sequence that is
 * not UTF-8 (`password=%FF`) or a malformed escape is refused, where URLSearchParams would
 * silently turn it into U+FFFD — and so let different byte strings become the same password.
 */
function mergeForm(into: Collected, raw: string): void {
  if (!raw) return;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    add(
      into,
      decodeFormComponent(eq < 0 ? pair : pair.slice(0, eq)),
      decodeFormComponent(eq < 0 ? '' : pair.slice(eq + 1)),
    );
  }
}

function decodeFormComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequest('Parameters are not valid percent-encoded UTF-8');
  }
}

/** A JSON body that must be an object; invalid_request otherwise. */
function jsonObject(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidRequest('Request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidRequest('JSON body must be an object');
  return parsed as Record<string, unknown>;
}

function mergeJson(into: Collected, raw: string): void {
  for (const [key, value] of Object.entries(jsonObject(raw))) {
    if (value === null || value === undefined) continue;
    // Every OAuth parameter is a string (RFC 6749 Appendix A): `{"grant_type": 5}` is a
    // malformed request, not an unknown grant type "5". A repeatable one may be a list of them.
    if (typeof value === 'string') add(into, key, value);
    else if (into.repeatable.has(key) && isStringList(value))
      for (const v of value) add(into, key, v);
    else if (into.repeatable.has(key))
      throw new InvalidRequest(`${truncate(key)} must be a string or a list of strings`);
    else throw new InvalidRequest(`${truncate(key)} must be a string`);
  }
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function add(into: Collected, key: string, value: string): void {
  // No OAuth parameter admits NUL (RFC 6749 Appendix A), and PostgreSQL text cannot hold it:
  // refuse it here rather than let it reach a query as a server error.
  if (key.includes('\0') || value.includes('\0'))
    throw new InvalidRequest(`Parameter ${truncate(key)} contains a NUL character`);
  if (into.repeatable.has(key)) {
    (into.lists[key] ??= []).push(value);
    return;
  }
  if (Object.prototype.hasOwnProperty.call(into.params, key))
    throw new InvalidRequest(`Parameter ${truncate(key)} is repeated`);
  // Own-property writes only; "__proto__" stays a plain key.
  Object.defineProperty(into.params, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function truncate(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
