/** Gives every request an id (honouring a sane incoming X-Request-Id) and echoes it back. */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { AppState } from '../types';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestId(): Middleware<AppState> {
  return async (ctx, next) => {
    const id = pickRequestId(ctx.get('x-request-id'));
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}

/** The caller's X-Request-Id when it is sane, otherwise a fresh UUID. */
export function pickRequestId(incoming: string): string {
  return incoming !== '' && SAFE_ID.test(incoming) ? incoming : randomUUID();
}
