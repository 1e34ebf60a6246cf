/**
 * The route table: method, path and the pipeline of each endpoint. Endpoint modules turn HTTP
 * into typed calls on the services; the protocol lives in src/oauth/.
 */
import Router from '@koa/router';
import type { Services } from '../services';
import {
  authorizationEndpoints,
  authorizationRequestValidator,
  pageErrors,
  requestResolution,
} from './endpoints/authorize';
import { pushedAuthorizationRequest } from './endpoints/par';
import { discovery } from './endpoints/discovery';
import { deviceEndpoints } from './endpoints/device';
import { deviceAuthorization } from './endpoints/device-authorization';
import { endSession } from './endpoints/end-session';
import { selfServiceEndpoints } from './endpoints/self-service';
import { passwordPages } from './endpoints/password-pages';
import { healthz, readyz } from './endpoints/health';
import { introspect } from './endpoints/introspect';
import { jwks, JWKS_PATH } from './endpoints/jwks';
import { metricsEndpoint } from './endpoints/metrics';
import { clientCors } from './middleware/cors';
import { logout } from './endpoints/logout';
import { openapi, OPENAPI_PATH } from './endpoints/openapi';
import { revoke } from './endpoints/revoke';
import { dpopProof, tokenPipeline } from './endpoints/token';
import { userinfo, userinfoPreflight } from './endpoints/userinfo';
import { jsonDocument, parseParams } from './middleware/body';
import { registrationEndpoints } from './endpoints/register';
import {
  REGISTRATION_PATH,
  registrationMetadata,
} from '../oauth/registration/dynamic-registration';
import { noStore } from './middleware/headers';
import { clientAuthDeps, clientAuthentication } from '../oauth/client-auth/middleware';
import { REPEATABLE_PARAMS } from '../oauth/resources';
import { accessTokenVerifierDeps } from '../tokens/verify-issued-access-token';
import { buildServerMetadata } from '../oauth/metadata';
import { dpopMetadata } from '../oauth/dpop/metadata';
import { dpopProofs } from '../oauth/dpop/proofs';
import { backchannelLogoutMetadata } from '../oauth/logout/metadata';
import {
  authorizationMetadata,
  AUTHORIZATION_PATH,
  END_SESSION_PATH,
  PAR_PATH,
} from '../oauth/authorization/metadata';
import {
  deviceMetadata,
  DEVICE_AUTHORIZATION_PATH,
  DEVICE_VERIFICATION_PATH,
} from '../oauth/device/metadata';
import { buildBrowserContext } from '../sessions';
import type { AppState } from './types';

export function buildRouter(services: Services): Router<AppState> {
  const { config } = services;
  const router = new Router<AppState>();

  router.get('/healthz', healthz());
  router.get('/metrics', metricsEndpoint(services));
  router.get('/readyz', readyz(services, config.DB_CONNECT_TIMEOUT_MS));
  router.get(JWKS_PATH, jwks(services.keyStore, config.JWKS_MAX_AGE));
  // Features that add discovery fields (authorization endpoint, PKCE, logout) pass a
  // MetadataExtension here (see src/oauth/metadata.ts).
  const dpop = dpopProofs(services);
  const metadata = buildServerMetadata(config, [
    authorizationMetadata(config),
    dpopMetadata(dpop),
    registrationMetadata(config),
    backchannelLogoutMetadata(),
    deviceMetadata(config),
    // OIDC Initiating User Registration §4.1: prompt=create, when sign-up is open.
    ...(config.SIGNUP === 'open' ? [{ append: { prompt_values_supported: ['create'] } }] : []),
  ]);
  router.get('/.well-known/openid-configuration', discovery(metadata));
  router.get('/.well-known/oauth-authorization-server', discovery(metadata));
  router.get(OPENAPI_PATH, openapi());

  // Token endpoint (RFC 6749 §3.2) and /refresh: one pipeline, grants in src/oauth/grants/.
  // Browser clients may call these from their registered origins only (middleware/cors.ts).
  const cors = clientCors(services);
  router.post('/token', cors.actual, ...tokenPipeline(services, dpop));
  router.post(
    '/refresh',
    cors.actual,
    ...tokenPipeline(services, dpop, { impliedGrant: 'refresh_token' }),
  );
  for (const path of ['/token', '/refresh', '/revoke']) router.options(path, cors.preflight);

  // Revocation (RFC 7009), introspection (RFC 7662), userinfo (OIDC Core §5.3), logout-all.
  const verifier = accessTokenVerifierDeps(services);
  const form = () => parseParams({ limitBytes: config.BODY_LIMIT_BYTES, json: false });
  const authenticateClient = clientAuthentication(clientAuthDeps(services));
  const tokenState = {
    ...verifier,
    refreshTokens: services.refreshTokens,
    revokedAccessTokens: services.revokedAccessTokens,
    audit: services.audit,
    backchannelLogout: services.backchannelLogout,
  };
  router.post('/revoke', cors.actual, noStore(), form(), authenticateClient, revoke(tokenState));
  router.post('/introspect', noStore(), form(), authenticateClient, introspect(tokenState));
  router.get('/userinfo', userinfo(verifier, dpop));
  router.post('/userinfo', form(), userinfo(verifier, dpop));
  router.options('/userinfo', userinfoPreflight());
  router.post('/logout', noStore(), form(), logout(tokenState));
  // Pushed authorization requests (RFC 9126): authenticated like the token endpoint.
  router.post(
    PAR_PATH,
    noStore(),
    parseParams({
      limitBytes: config.BODY_LIMIT_BYTES,
      json: false,
      repeatable: REPEATABLE_PARAMS,
    }),
    authenticateClient,
    dpopProof(services, dpop, { optional: true }),
    pushedAuthorizationRequest({
      ...requestResolution(services),
      validate: authorizationRequestValidator(services),
      ttlSeconds: config.PAR_REQUEST_URI_TTL,
    }),
  );

  // Device authorization (RFC 8628 §3.1): authenticated like the token endpoint.
  router.post(
    DEVICE_AUTHORIZATION_PATH,
    noStore(),
    parseParams({
      limitBytes: config.BODY_LIMIT_BYTES,
      json: false,
      repeatable: REPEATABLE_PARAMS,
    }),
    authenticateClient,
    deviceAuthorization(services),
  );

  // Browser sign-in: authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2: GET and POST),
  // the login and consent forms, RP-initiated logout. Errors here are pages, not JSON.
  const browser = buildBrowserContext(services);
  const pages = authorizationEndpoints(services, browser);
  const pageParams = (includeQuery: boolean, repeatable?: readonly string[]) => [
    pageErrors(),
    parseParams({ limitBytes: config.BODY_LIMIT_BYTES, includeQuery, json: false, repeatable }),
  ];
  // RFC 8707 §2: `resource` may repeat on /authorize.
  router.get(AUTHORIZATION_PATH, ...pageParams(true, REPEATABLE_PARAMS), pages.authorize);
  router.post(AUTHORIZATION_PATH, ...pageParams(false, REPEATABLE_PARAMS), pages.authorize);
  router.post('/login', ...pageParams(false), pages.login);
  router.post('/consent', ...pageParams(false), pages.consent);
  // The device verification page (RFC 8628 §3.3): enter the code, sign in, approve or deny.
  const device = deviceEndpoints(services, browser);
  router.get(DEVICE_VERIFICATION_PATH, ...pageParams(true), device.show);
  router.post(DEVICE_VERIFICATION_PATH, ...pageParams(false), device.enter);
  router.post(`${DEVICE_VERIFICATION_PATH}/login`, ...pageParams(false), device.login);
  router.post(`${DEVICE_VERIFICATION_PATH}/confirm`, ...pageParams(false), device.confirm);
  // Self-service accounts: forgot password and reset whenever mail can be sent; sign-up and
  // email verification when SIGNUP is on (the verification links outlive a switch to off).
  if (services.mailer.enabled) {
    const password = passwordPages(services, browser);
    router.get('/forgot-password', ...pageParams(true), password.showForgot);
    router.post('/forgot-password', ...pageParams(false), password.forgot);
    router.get('/reset-password', ...pageParams(true), password.showReset);
    router.post('/reset-password', ...pageParams(false), password.reset);
    const account = selfServiceEndpoints(services, browser, pages.resumption);
    router.get('/verify-email', ...pageParams(true), account.showVerify);
    router.post('/verify-email', ...pageParams(false), account.verify);
    router.post('/verify-email/resend', ...pageParams(false), account.resend);
    if (config.SIGNUP !== 'off') {
      router.get('/signup', ...pageParams(true), account.showSignUp);
      router.post('/signup', ...pageParams(false), account.signUp);
    }
  }
  router.get(END_SESSION_PATH, ...pageParams(true), endSession(services, browser));
  router.post(END_SESSION_PATH, ...pageParams(false), endSession(services, browser));

  // Dynamic client registration (RFC 7591, RFC 7592), when REGISTRATION allows it.
  if (config.REGISTRATION !== 'off') {
    const registration = registrationEndpoints(services, config.REGISTRATION);
    const document = () => jsonDocument({ limitBytes: config.BODY_LIMIT_BYTES });
    const one = `${REGISTRATION_PATH}/:client_id`;
    router.post(REGISTRATION_PATH, noStore(), document(), registration.register);
    router.get(one, noStore(), registration.read);
    router.put(one, noStore(), document(), registration.update);
    router.delete(one, noStore(), registration.remove);
  }

  return router;
}
