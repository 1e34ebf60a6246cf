/**
 * The route table: method, path and the pipeline of each endpoint. Endpoint modules turn HTTP
 * into typed calls on the services; the protocol lives in src/oauth/.
 */
import Router from '@koa/router';
import type { Services } from '../services';
import { discovery } from './endpoints/discovery';
import { healthz, readyz } from './endpoints/health';
import { jwks } from './endpoints/jwks';
import { tokenPipeline } from './endpoints/token';
import { buildServerMetadata } from '../oauth/metadata';
import type { AppState } from './types';

export function buildRouter(services: Services): Router<AppState> {
  const { config } = services;
  const router = new Router<AppState>();

  router.get('/healthz', healthz());
  router.get('/readyz', readyz(services, config.DB_CONNECT_TIMEOUT_MS));
  router.get('/.well-known/jwks.json', jwks(services.keyStore, config.JWKS_MAX_AGE));
  // Features that add discovery fields (authorization endpoint, PKCE, logout) pass a
  // MetadataExtension here (see src/oauth/metadata.ts).
  const metadata = buildServerMetadata(config, []);
  router.get('/.well-known/openid-configuration', discovery(metadata));
  router.get('/.well-known/oauth-authorization-server', discovery(metadata));

  // Token endpoint (RFC 6749 §3.2) and /refresh: one pipeline, grants in src/oauth/grants/.
  router.post('/token', ...tokenPipeline(services));
  router.post('/refresh', ...tokenPipeline(services, { impliedGrant: 'refresh_token' }));

  return router;
}
