/**
 * A tiny API protected by Tessera access tokens — the example of docs/resource-servers.md.
 *
 *   ISSUER=http://localhost:3000 AUDIENCE=https://api.example.com PORT=4000 npx tsx examples/api/server.ts
 *
 * Routes: GET /public (anyone), GET /items (scope "api"), GET /admin (role "admin").
 * Optional INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET turn on the online
 * revocation check for /admin.
 */
import Koa from 'koa';
import Router from '@koa/router';
import {
  requireAccessToken,
  requireRoles,
  type AccessTokenState,
  type RequireAccessTokenOptions,
} from 'tessera/resource-server';

export type ExampleApiOptions = Omit<RequireAccessTokenOptions, 'requiredScopes'>;

export function createExampleApi(options: ExampleApiOptions): Koa<AccessTokenState> {
  const app = new Koa<AccessTokenState>();
  const router = new Router<AccessTokenState>();
  const { introspection, ...offline } = options;
  // Verified locally against the issuer's cached JWKS: no call to the issuer per request.
  const withScopeApi = requireAccessToken({ ...offline, requiredScopes: ['api'] });
  // Revocation-sensitive: also asks the issuer's /introspect when credentials are configured.
  const forAdmins = requireAccessToken({ ...offline, ...(introspection ? { introspection } : {}) });

  router.get('/public', (ctx) => {
    ctx.body = { message: 'anyone can read this' };
  });
  router.get('/items', withScopeApi, (ctx) => {
    const { claims, scopes } = ctx.state.auth;
    ctx.body = { items: ['a', 'b'], sub: claims.sub, client_id: claims.client_id, scopes };
  });
  router.get('/admin', forAdmins, requireRoles('admin'), (ctx) => {
    ctx.body = { message: 'welcome, admin', sub: ctx.state.auth.claims.sub };
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function fromEnv(): ExampleApiOptions {
  const issuer = process.env.ISSUER;
  const audience = process.env.AUDIENCE;
  if (!issuer || !audience) {
    console.error("Set ISSUER (the Tessera URL) and AUDIENCE (this API's identifier).");
    process.exit(2);
  }
  const clientId = process.env.INTROSPECTION_CLIENT_ID;
  const clientSecret = process.env.INTROSPECTION_CLIENT_SECRET;
  return {
    issuer,
    audience,
    ...(clientId && clientSecret ? { introspection: { clientId, clientSecret } } : {}),
    onIssuerError: (err) =>
      console.warn(
        `issuer problem: ${err.message}`,
        err.cause instanceof Error ? `(${err.cause.message})` : '',
      ),
  };
}

if (require.main === module) {
  const port = Number(process.env.PORT ?? 4000);
  createExampleApi(fromEnv()).listen(port, () =>
    console.log(`example API on http://localhost:${port}`),
  );
}
