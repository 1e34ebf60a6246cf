/**
 * The browser side of the authorization code flow (RFC 6749 §4.1, OIDC Core §3.1):
 * - GET and POST /authorize (OIDC Core §3.1.2.1 requires both);
 * - POST /login, the login form's target;
 * - POST /consent, the consent form's target.
 * Each step re-validates the request, then `decide` says what comes next: a page, or a
 * redirect to the client. Responses to form POSTs redirect with 303 so the browser does not
 * re-post the credentials to the client (RFC 9700 §4.12).
 */
import type { Middleware } from 'koa';
import { EmailNotVerified, LoginRejected, LoginThrottled, verifyLogin } from '../../accounts/login';
import { NOT_VERIFIED, tryAgainIn } from '../pages/messages';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
} from '../../oauth/authorization/errors';
import { decide, type AuthorizationOutcome } from '../../oauth/authorization/flow';
import { InteractionError, type InteractionState } from '../../oauth/authorization/interaction';
import {
  authorizationParameters,
  DIRECT,
  validateAuthorizationRequest,
  type AuthorizationRequest,
  type RequestOrigin,
} from '../../oauth/authorization/request';
import { errorRedirect } from '../../oauth/authorization/response';
import { resolveAuthorizationParams, type ResolveDeps } from '../../oauth/authorization/pushed';
import { AccessDenied, LoginRequired, OAuthError } from '../../oauth/errors';
import { isDatabaseUnavailable } from '../../persistence/errors';
import type { Services } from '../../services';
import type { BrowserContext } from '../../sessions';
import { renderConsentPage } from '../pages/consent';
import { renderErrorPage } from '../pages/error';
import { originOf } from '../pages/layout';
import { renderLoginPage } from '../pages/login';
import { renderSignUpPage } from '../pages/account-forms';
import type { SignInResumption } from './self-service';
import type { AppContext, AppState } from '../types';

/** Validates an authorization request against the registrations and the server's settings. */
export function authorizationRequestValidator(services: Services) {
  const { config } = services;
  return (
    params: Record<string, string>,
    origin: RequestOrigin = DIRECT,
    resource?: readonly string[],
  ) =>
    validateAuthorizationRequest(
      params,
      {
        clients: services.clients,
        keyStore: services.keyStore,
        issuer: config.issuer,
        clockSkew: config.CLOCK_SKEW,
        requirePushed: config.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS,
        // OIDC Initiating User Registration §4: prompt=create, when sign-up is open.
        promptCreate: config.SIGNUP === 'open',
      },
      origin,
      resource,
    );
}

/** What resolving a request's parameters uses: pushed requests and the clients' keys. */
export function requestResolution(services: Services): ResolveDeps {
  const { config } = services;
  return {
    pushedRequests: services.pushedRequests,
    clock: services.clock,
    clients: services.clients,
    requestObjects: {
      verifyClientJwt: (client, jwt, options) => services.clientKeys.verify(client, jwt, options),
      usedJtis: services.usedJtis,
      issuer: config.issuer,
      clockSkew: config.CLOCK_SKEW,
      clock: services.clock,
    },
  };
}

export interface AuthorizationEndpoints {
  authorize: Middleware<AppState>;
  login: Middleware<AppState>;
  consent: Middleware<AppState>;
  /** For the sign-up pages: the sign-in a sign-up continues (prompt=create). */
  resumption: SignInResumption;
}

export function authorizationEndpoints(
  services: Services,
  browser: BrowserContext,
): AuthorizationEndpoints {
  const { config } = services;
  const { sessions, interactions } = browser;
  const validate = authorizationRequestValidator(services);
  const resolution = requestResolution(services);
  /** A sealed page state's request, validated as it came (pushed, signed or direct). */
  const reopen = (state: InteractionState) =>
    validate(state.params, state.origin ?? DIRECT, state.resource);

  /** Runs one step; turns its outcome or failure into the response. */
  async function step(
    ctx: AppContext,
    run: () => Promise<
      { request: AuthorizationRequest; outcome: AuthorizationOutcome } | undefined
    >,
  ): Promise<void> {
    const redirectStatus = ctx.method === 'GET' ? 302 : 303;
    try {
      const result = await run();
      if (result) await respond(ctx, result.request, result.outcome, redirectStatus);
    } catch (err) {
      if (err instanceof AuthorizationPageError)
        return renderErrorPage(ctx, err.title, err.detail, err.status);
      if (err instanceof AuthorizationRedirectError)
        return redirect(
          ctx,
          errorRedirect(err.redirectUri, config.issuer, err.error, err.state),
          redirectStatus,
        );
      if (err instanceof InteractionError) {
        ctx.state.log?.debug({ reason: err.message }, 'sign-in page state rejected');
        return renderErrorPage(
          ctx,
          'This page has expired',
          'For your security this sign-in page can no longer be used. Go back to the application and start again.',
          403,
        );
      }
      throw err;
    }
  }

  async function respond(
    ctx: AppContext,
    request: AuthorizationRequest,
    outcome: AuthorizationOutcome,
    redirectStatus: number,
  ): Promise<void> {
    if (outcome.kind === 'redirect') return redirect(ctx, outcome.url, redirectStatus);
    if (outcome.kind === 'login') return showLogin(ctx, request, {});
    const user = await services.users.findById(outcome.session.userId);
    renderConsentPage(ctx, {
      clientName: request.client.name,
      clientUri: request.client.clientUri,
      logoUri: request.client.logoUri,
      userEmail: user?.email ?? '',
      scopes: outcome.scopes,
      resources: request.resources,
      interaction: interactions.seal(ctx, {
        ...sealed(request),
        sessionId: outcome.session.id,
        origin: request.origin,
      }),
      csrf: interactions.csrfToken(ctx, 'consent'),
      formOrigins: formOrigins(request),
    });
  }

  function showLogin(
    ctx: AppContext,
    request: AuthorizationRequest,
    extra: { email?: string; error?: string; status?: number; unverified?: boolean },
  ): void {
    const interaction = interactions.seal(ctx, sealed(request));
    renderLoginPage(ctx, {
      clientName: request.client.name,
      interaction,
      csrf: interactions.csrfToken(ctx, 'login'),
      email: extra.email ?? request.loginHint,
      error: extra.error,
      ...(extra.status ? { status: extra.status } : {}),
      formOrigins: formOrigins(request),
      links: {
        ...(services.mailer.enabled ? { forgotPassword: '/forgot-password' } : {}),
        ...(config.SIGNUP === 'open'
          ? { signUp: `/signup?interaction=${encodeURIComponent(interaction)}` }
          : {}),
        ...(extra.unverified ? { resendCsrf: interactions.csrfToken(ctx, 'resend') } : {}),
      },
    });
  }

  /** OIDC Initiating User Registration §4: prompt=create opens the sign-up page. */
  function showSignUp(ctx: AppContext, request: AuthorizationRequest): void {
    renderSignUpPage(ctx, {
      csrf: interactions.csrfToken(ctx, 'signup'),
      interaction: interactions.seal(ctx, sealed(request)),
      clientName: request.client.name,
      email: request.loginHint,
    });
  }

  const resumption: SignInResumption = {
    clientName: async (state) => (await reopen(state)).client.name,
    resume: (ctx, state, email) =>
      step(ctx, async () => {
        showLogin(ctx, await reopen(state), { email });
        return undefined;
      }),
  };

  const authorize: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const { params, origin, resource } = await resolveAuthorizationParams(
        ctx.state.params ?? {},
        ctx.state.paramLists?.resource,
        resolution,
      );
      const request = await validate(params, origin, resource);
      if (request.prompt.has('create')) {
        showSignUp(ctx, request);
        return undefined;
      }
      return { request, outcome: await decide(services, request, await sessions.current(ctx)) };
    });

  const login: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'login', form.csrf_token);
      const request = await reopen(interactions.open(ctx, form.interaction));
      const email = (form.email ?? '').trim().slice(0, 254);
      const password = form.password ?? '';
      if (!email || !password || password.length > 1024) {
        showLogin(ctx, request, {
          email,
          error: 'Enter your email address and password.',
          status: 400,
        });
        return undefined;
      }
      let user;
      try {
        user = await verifyLogin(services, {
          email,
          password,
          ip: ctx.ip,
          clientId: request.client.id,
          requestId: ctx.state.requestId,
        });
      } catch (err) {
        if (err instanceof LoginRejected) {
          showLogin(ctx, request, {
            email,
            error: 'The email address or password is incorrect.',
            status: 401,
          });
          return undefined;
        }
        if (err instanceof EmailNotVerified) {
          showLogin(ctx, request, { email, error: NOT_VERIFIED, status: 403, unverified: true });
          return undefined;
        }
        if (err instanceof LoginThrottled) {
          ctx.set('Retry-After', String(err.retryAfterSeconds));
          showLogin(ctx, request, {
            email,
            error: `Too many failed attempts. ${tryAgainIn(err.retryAfterSeconds)}`,
            status: 429,
          });
          return undefined;
        }
        throw err;
      }
      // OIDC Core §3.1.2.1: the client asked for a specific user (id_token_hint); another one
      // signing in does not satisfy the request.
      if (request.idTokenHint && request.idTokenHint.sub !== user.id) {
        throw new AuthorizationRedirectError(
          request.redirectUri,
          request.state,
          new LoginRequired('A different user signed in than the one requested'),
        );
      }
      const session = await sessions.start(ctx, user.id, ['pwd']);
      return { request, outcome: await decide(services, request, session, { freshLogin: true }) };
    });

  const consent: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'consent', form.csrf_token);
      const state = interactions.open(ctx, form.interaction);
      const request = await reopen(state);
      const session = await sessions.current(ctx);
      // The session changed since the page was shown (signed out, or another user): start over.
      if (!session || session.id !== state.sessionId)
        return { request, outcome: await decide(services, request, session) };
      if (form.decision !== 'allow') {
        throw new AuthorizationRedirectError(
          request.redirectUri,
          request.state,
          new AccessDenied('The user denied the request'),
        );
      }
      await services.consents.grant(
        session.userId,
        request.client.id,
        request.scopes,
        request.resources,
      );
      await services.audit.record({
        type: 'consent.granted',
        userId: session.userId,
        clientId: request.client.id,
        ip: ctx.ip,
        requestId: ctx.state.requestId,
        details: {
          scope: request.scopes.join(' '),
          ...(request.resources.length ? { resources: request.resources } : {}),
        },
      });
      return {
        request,
        outcome: await decide(services, request, session, { freshLogin: true, consented: true }),
      };
    });

  return { authorize, login, consent, resumption };
}

/** Browser-facing routes answer errors (bad bodies, repeated parameters) with a page, not JSON. */
export function pageErrors(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof OAuthError && err.status < 500)
        return renderErrorPage(ctx, 'Invalid request', err.description, err.status);
      // A person, not a program, is reading: the 503 is a page (the JSON endpoints answer temporarily_unavailable).
      if (isDatabaseUnavailable(err)) {
        ctx.set('Retry-After', '5');
        return renderErrorPage(
          ctx,
          'Temporarily unavailable',
          'Sign-in is briefly unavailable. Please try again in a moment.',
          503,
        );
      }
      throw err;
    }
  };
}

function redirect(ctx: AppContext, url: string, status: number): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.status = status;
  ctx.redirect(url);
}

/**
 * What the sign-in pages seal: the authorization parameters, where they came from and, for
 * RFC 8707, the validated resources (distinct and registered, so re-validating them yields the
 * same request).
 */
function sealed(request: AuthorizationRequest): InteractionState {
  return {
    params: authorizationParameters(request.params),
    origin: request.origin,
    ...(request.resources.length ? { resource: request.resources } : {}),
  };
}

function formOrigins(request: AuthorizationRequest): string[] {
  const origin = originOf(request.redirectUri);
  return origin ? [origin] : [];
}
