/**
 * The first middleware of every request, kept cheap because every request pays it (the JWKS
 * endpoint is otherwise almost free): the request id (honoured or generated, echoed in
 * X-Request-Id), the security headers, and `ctx.state.log`, a child logger bound to the
 * request id that is created only when something actually logs — building a pino child per
 * request cost more than serving the JWKS document. With debug logging on, each request is
 * also logged with its status and duration.
 */
import type { ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from '../../shared/logger';
import type { AppState } from '../types';
import { securityHeaderList } from './headers';
import { pickRequestId } from './request-id';

/** Per-request state whose `log` is made on first use. */
class RequestState implements AppState {
  [key: string]: unknown;
  private child: Logger | undefined;

  constructor(
    private readonly base: Logger,
    public requestId: string,
  ) {}

  get log(): Logger {
    return (this.child ??= this.base.child({ requestId: this.requestId }));
  }

  set log(value: Logger) {
    this.child = value;
  }
}

/**
 * What every response starts with, here and on the JWKS fast path: the request id (the
 * caller's X-Request-Id when sane, else a fresh one), echoed, and the security headers.
 */
export function startResponse(
  res: ServerResponse,
  incomingId: string,
  securityHeaders: ReadonlyArray<readonly [string, string]>,
): string {
  const id = pickRequestId(incomingId);
  res.setHeader('X-Request-Id', id);
  for (const [name, value] of securityHeaders) res.setHeader(name, value);
  return id;
}

export function requestContext(options: { log: Logger; https: boolean }): Middleware<AppState> {
  const { log } = options;
  const headers = securityHeaderList(options);
  return async (ctx, next) => {
    ctx.state = new RequestState(log, startResponse(ctx.res, ctx.get('x-request-id'), headers));
    if (!log.isLevelEnabled('debug')) {
      await next();
      return;
    }
    const started = process.hrtime.bigint();
    await next();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    ctx.state.log.debug(
      { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 },
      'request',
    );
  };
}
