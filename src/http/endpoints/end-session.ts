/**
 * RP-Initiated Logout 1.0 (GET and POST /session/end, the `end_session_endpoint`).
 *
 * - `id_token_hint` (ours; may be expired) says which user and client ask; `client_id` may
 *   name the client instead and must agree with the hint (§2).
 * - `post_logout_redirect_uri` must exactly equal one registered for that client, and is
 *   only honoured when the client is identified; otherwise an error page, never a redirect (§3).
 * - Without a hint that matches the signed-in user, a confirmation page asks the user first;
 *   its POST carries a CSRF token bound to this browser, so no other site can log users out.
 * - Logging out ends the browser session and revokes the refresh-token families born in it.
 */
import type { Middleware } from 'koa';
import { InteractionError } from '../../oauth/authorization/interaction';
import { verifyIdTokenHint, type IdTokenHint } from '../../oauth/authorization/id-token-hint';
import { logoutRedirect } from '../../oauth/authorization/response';
import type { ClientRecord } from '../../persistence/types';
import type { Services } from '../../services';
import type { BrowserContext } from '../../sessions';
import { renderErrorPage } from '../pages/error';
import { originOf } from '../pages/layout';
import { renderLogoutConfirmPage, renderSignedOutPage } from '../pages/logout';
import type { AppContext, AppState } from '../types';

const MAX = 2000;

export function endSession(services: Services, browser: BrowserContext): Middleware<AppState> {
  const { config } = services;
  const { sessions, interactions } = browser;

  return async (ctx) => {
    const p = ctx.state.params ?? {};
    if (Object.values(p).some((v) => v.length > 8192)) return renderErrorPage(ctx, 'Invalid request', 'A parameter is too long.');

    let hint: IdTokenHint | undefined;
    if (p.id_token_hint) {
      hint = (await verifyIdTokenHint(services.keyStore, p.id_token_hint, config.issuer, config.CLOCK_SKEW)) ?? undefined;
      if (!hint) return renderErrorPage(ctx, 'Invalid request', 'The sign-out request carries an ID token this server did not issue.');
    }

    let client: ClientRecord | null = null;
    const clientId = p.client_id ?? (hint?.aud.length === 1 ? hint.aud[0] : undefined);
    if (clientId) {
      if (hint && !hint.aud.includes(clientId)) return renderErrorPage(ctx, 'Invalid request', 'client_id does not match the ID token.');
      client = clientId.length <= MAX ? await services.clients.findById(clientId) : null;
      if (!client || client.disabled) return renderErrorPage(ctx, 'Unknown application', 'The application that sent you here is not registered with this server.');
    }

    const redirectUri = p.post_logout_redirect_uri;
    if (redirectUri !== undefined && (!client || !client.postLogoutRedirectUris.includes(redirectUri))) {
      return renderErrorPage(ctx, 'Invalid request', 'The address to return to after signing out is not registered for this application, so you were not sent there.');
    }
    const state = p.state !== undefined && p.state.length <= MAX ? p.state : undefined;

    const session = await sessions.current(ctx);
    const confirmed = ctx.method === 'POST' && p.confirm === 'yes';
    if (confirmed) {
      try {
        interactions.checkCsrf(ctx, 'logout', p.csrf_token);
      } catch (err) {
        if (!(err instanceof InteractionError)) throw err;
        return renderErrorPage(ctx, 'This page has expired', 'For your security this sign-out page can no longer be used. Try again.', 403);
      }
    }
    // The hint proves the request comes from the user's own relying party for this very user.
    const proven = hint !== undefined && session !== null && hint.sub === session.userId;
    if (session && !proven && !confirmed) {
      const carry: Record<string, string> = {};
      if (client) carry.client_id = client.id;
      if (redirectUri !== undefined) carry.post_logout_redirect_uri = redirectUri;
      if (state !== undefined) carry.state = state;
      const origin = redirectUri ? originOf(redirectUri) : null;
      return renderLogoutConfirmPage(ctx, { clientName: client?.name, csrf: interactions.csrfToken(ctx, 'logout'), carry, formOrigins: origin ? [origin] : [] });
    }

    if (session) await endBrowserSession(ctx, services, browser, session.id, session.userId, client?.id ?? null);
    else await sessions.end(ctx, null);

    if (redirectUri !== undefined) {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = ctx.method === 'GET' ? 302 : 303;
      return ctx.redirect(logoutRedirect(redirectUri, state));
    }
    renderSignedOutPage(ctx);
  };
}

async function endBrowserSession(ctx: AppContext, services: Services, browser: BrowserContext, sessionId: string, userId: string, clientId: string | null): Promise<void> {
  const now = services.clock.now();
  const families = await services.browserSessions.liveFamilyIds(sessionId);
  for (const familyId of families) await services.refreshTokens.revokeFamily(familyId, 'logout', now);
  await browser.sessions.end(ctx, sessionId);
  await services.audit.record({ type: 'session.ended', userId, clientId, ip: ctx.ip, requestId: ctx.state.requestId, details: { families: families.length } });
}
