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
import { LoginRejected, LoginThrottled, verifyLogin } from '../../accounts/login';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
} from '../../oauth/authorization/errors';
import { decide, type AuthorizationOutcome } from '../../oauth/authorization/flow';
import { InteractionError } from '../../oauth/authorization/interaction';
import {
  validateAuthorizationRequest,
  type AuthorizationRequest,
} from '../../oauth/authorization/request';
import { errorRedirect } from '../../oauth/authorization/response';
import { AccessDenied, LoginRequired, OAuthError } from '../../oauth/errors';
import { isDatabaseUnavailable } from '../../persistence/errors';
import type { Services } from '../../services';
import type { BrowserContext } from '../../sessions';
import { renderConsentPage } from '../pages/consent';
import { renderErrorPage } from '../pages/error';
import { originOf } from '../pages/layout';
import { renderLoginPage } from '../pages/login';
import type { AppContext, AppState } from '../types';

/** The authorization request parameters kept in the sealed page state; others are dropped. */
const CARRIED = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'login_hint',
  'id_token_hint',
  // RFC 9449 §10: the key the code will be bound to.
  'dpop_jkt',
];

export interface AuthorizationEndpoints {
  authorize: Middleware<AppState>;
  login: Middleware<AppState>;
  consent: Middleware<AppState>;
}

export function authorizationEndpoints(
  services: Services,
  browser: BrowserContext,
): AuthorizationEndpoints {
  const { config } = services;
  const { sessions, interactions } = browser;
  const validate = (params: Record<string, string>) =>
    validateAuthorizationRequest(params, {
      clients: services.clients,
      keyStore: services.keyStore,
      issuer: config.issuer,
      clockSkew: config.CLOCK_SKEW,
    });

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
      userEmail: user?.email ?? '',
      scopes: outcome.scopes,
      interaction: interactions.seal(ctx, {
        params: carried(request.params),
        sessionId: outcome.session.id,
      }),
      csrf: interactions.csrfToken(ctx, 'consent'),
      formOrigins: formOrigins(request),
    });
  }

  function showLogin(
    ctx: AppContext,
    request: AuthorizationRequest,
    extra: { email?: string; error?: string; status?: number },
  ): void {
    renderLoginPage(ctx, {
      clientName: request.client.name,
      interaction: interactions.seal(ctx, { params: carried(request.params) }),
      csrf: interactions.csrfToken(ctx, 'login'),
      email: extra.email ?? request.loginHint,
      error: extra.error,
      ...(extra.status ? { status: extra.status } : {}),
      formOrigins: formOrigins(request),
    });
  }

  const authorize: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const request = await validate(ctx.state.params ?? {});
      return { request, outcome: await decide(services, request, await sessions.current(ctx)) };
    });

  const login: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'login', form.csrf_token);
      const request = await validate(interactions.open(ctx, form.interaction).params);
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
        if (err instanceof LoginThrottled) {
          ctx.set('Retry-After', String(err.retryAfterSeconds));
          showLogin(ctx, request, {
            email,
            error: `Too many failed attempts. Try again in ${err.retryAfterSeconds} seconds.`,
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
      const request = await validate(state.params);
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
      await services.consents.grant(session.userId, request.client.id, request.scopes);
      await services.audit.record({
        type: 'consent.granted',
        userId: session.userId,
        clientId: request.client.id,
        ip: ctx.ip,
        requestId: ctx.state.requestId,
        details: { scope: request.scopes.join(' ') },
      });
      return {
        request,
        outcome: await decide(services, request, session, { freshLogin: true, consented: true }),
      };
    });

  return { authorize, login, consent };
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

function carried(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    CARRIED.filter((k) => params[k] !== undefined).map((k) => [k, params[k]!]),
  );
}

function formOrigins(request: AuthorizationRequest): string[] {
  const origin = originOf(request.redirectUri);
  return origin ? [origin] : [];
}
