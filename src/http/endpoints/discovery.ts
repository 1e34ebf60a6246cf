/**
 * GET /.well-known/openid-configuration (OIDC Discovery 1.0 §4) and
 * GET /.well-known/oauth-authorization-server (RFC 8414 §3): the same document, serialised
 * once at start-up from the frozen config. It is public and changes only with a redeploy, so
 * browsers and relying parties may cache it briefly and read it cross-origin.
 */
import type { Middleware } from 'koa';
import type { ServerMetadata } from '../../oauth/metadata';
import type { AppState } from '../types';

export const DISCOVERY_MAX_AGE_SECONDS = 300;

export function discovery(metadata: ServerMetadata): Middleware<AppState> {
  const body = JSON.stringify(metadata);
  return (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${DISCOVERY_MAX_AGE_SECONDS}`);
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/json';
    ctx.body = body;
  };
}
