/**
 * POST /par, the pushed authorization request endpoint (RFC 9126 §2): the client authenticates
 * as at the token endpoint and pushes its authorization request; the answer (201) is the
 * request_uri the browser brings to /authorize; a DPoP proof sent with it (checked before, by
 * the token endpoint's step) binds the code to its key (RFC 9449 §10.1). The protocol is in
 * oauth/authorization/pushed.ts.
 */
import type { Middleware } from 'koa';
import { pushAuthorizationRequest, type PushDeps } from '../../oauth/authorization/pushed';
import type { AppState } from '../types';

export function pushedAuthorizationRequest(deps: PushDeps): Middleware<AppState> {
  return async (ctx) => {
    const client = ctx.state.client;
    if (!client) throw new Error('client authentication did not run');
    ctx.body = await pushAuthorizationRequest(
      client,
      ctx.state.params ?? {},
      ctx.state.paramLists?.resource,
      deps,
      ctx.state.dpopJkt,
    );
    ctx.status = 201;
  };
}
