/**
 * RP-Initiated Logout 1.0 (GET and POST /session/end, the `end_session_endpoint`).
 *
 * - `id_token_hint` (ours; may be expired) says which user and client ask; `client_id` may
 *   name the client instead and must agree with the hint (§2).
 * - `post_logout_redirect_uri` must exactly equal one registered for that client, and is
 *   only honoured when the client is identified; otherwise an error page, never a redirect (§3).
 * - The session ends without asking only when the hint is an ID token of this browser's
 *   current session: its `sid` is the session's id and its `sub` the session's user. §2: the
 *   OP "MUST ask the End-User" whether to log out "if the supplied ID Token does not belong to
 *   the current OP session with the RP", and treats a hint whose sid does not correspond to
 *   the current session as suspect. Anything else — no hint, a password-grant ID token (no
 *   sid), another session's or another user's — gets the confirmation page, whose POST carries
 *   a CSRF token bound to this browser, so no other site can log users out (Security
 *   Considerations: logout requests without a valid hint are a means of denial of service).
 * - An expired hint counts (§2: the OP SHOULD accept ID tokens of a current or recent session
 *   "even when the exp time has passed"): it identifies the client for the redirect check,
 *   and it proves the request when its sid is still the current, live session — only an RP of
 *   that session was ever given an ID token with that sid, and the session itself is bounded
 *   by SESSION_TTL. An expired hint of any other session proves nothing, like a fresh one.
 * - A hint we did not sign (foreign key, tampered, malformed, not an ID token) is refused
 *   with a 400 page: we cannot tell which client sent it, so neither its redirect nor its
 *   logout is honoured.
 * - Logging out ends the browser session and revokes the refresh-token families born in it;
 *   each client that received tokens in the session and registered a backchannel_logout_uri is
 *   sent a logout token (Back-Channel Logout 1.0 §2.7), queued with the session's end and
 *   delivered in the background, so the signed-out page never waits for a relying party.
 */
import type { Middleware } from 'koa';
import { InteractionError } from '../../oauth/authorization/interaction';
import { verifyIdTokenHint, type IdTokenHint } from '../../oauth/authorization/id-token-hint';
import { logoutRedirect } from '../../oauth/authorization/response';
import type { BrowserSessionRecord } from '../../sessions/browser-session-storage';
import type { ClientRecord } from '../../clients/client-storage';
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
    if (Object.values(p).some((v) => v.length > 8192))
      return renderErrorPage(ctx, 'Invalid request', 'A parameter is too long.');

    let hint: IdTokenHint | undefined;
    if (p.id_token_hint) {
      hint =
        (await verifyIdTokenHint(
          services.keyStore,
          p.id_token_hint,
          config.issuer,
          config.CLOCK_SKEW,
        )) ?? undefined;
      if (!hint)
        return renderErrorPage(
          ctx,
          'Invalid request',
          'The sign-out request carries an ID token this server did not issue.',
        );
    }

    let client: ClientRecord | null = null;
    const clientId = p.client_id ?? (hint?.aud.length === 1 ? hint.aud[0] : undefined);
    if (clientId) {
      if (hint && !hint.aud.includes(clientId))
        return renderErrorPage(ctx, 'Invalid request', 'client_id does not match the ID token.');
      client = clientId.length <= MAX ? await services.clients.findById(clientId) : null;
      if (!client || client.disabled)
        return renderErrorPage(
          ctx,
          'Unknown application',
          'The application that sent you here is not registered with this server.',
        );
    }

    const redirectUri = p.post_logout_redirect_uri;
    if (
      redirectUri !== undefined &&
      (!client || !client.postLogoutRedirectUris.includes(redirectUri))
    ) {
      return renderErrorPage(
        ctx,
        'Invalid request',
        'The address to return to after signing out is not registered for this application, so you were not sent there.',
      );
    }
    const state = p.state !== undefined && p.state.length <= MAX ? p.state : undefined;

    const session = await sessions.current(ctx);
    const confirmed = ctx.method === 'POST' && p.confirm === 'yes';
    if (confirmed) {
      try {
        interactions.checkCsrf(ctx, 'logout', p.csrf_token);
      } catch (err) {
        if (!(err instanceof InteractionError)) throw err;
        return renderErrorPage(
          ctx,
          'This page has expired',
          'For your security this sign-out page can no longer be used. Try again.',
          403,
        );
      }
    }
    const proven = session !== null && hint !== undefined && belongsTo(hint, session);
    if (session && !proven && !confirmed) {
      const carry: Record<string, string> = {};
      if (client) carry.client_id = client.id;
      if (redirectUri !== undefined) carry.post_logout_redirect_uri = redirectUri;
      if (state !== undefined) carry.state = state;
      const origin = redirectUri ? originOf(redirectUri) : null;
      return renderLogoutConfirmPage(ctx, {
        clientName: client?.name,
        csrf: interactions.csrfToken(ctx, 'logout'),
        carry,
        formOrigins: origin ? [origin] : [],
      });
    }

    if (session)
      await endBrowserSession(
        ctx,
        services,
        browser,
        session.id,
        session.userId,
        client?.id ?? null,
      );
    else await sessions.end(ctx, null);

    if (redirectUri !== undefined) {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = ctx.method === 'GET' ? 302 : 303;
      return ctx.redirect(logoutRedirect(redirectUri, state));
    }
    renderSignedOutPage(ctx);
  };
}

/**
 * Whether the hint was issued in this very browser session (RP-Initiated Logout §2, §4): only
 * an RP of the current session holds an ID token with its `sid`, so only such a request came
 * from an RP the user is signed in to, rather than from any page that obtained some ID token.
 */
function belongsTo(hint: IdTokenHint, session: BrowserSessionRecord): boolean {
  return hint.sid !== undefined && hint.sid === session.id && hint.sub === session.userId;
}

async function endBrowserSession(
  ctx: AppContext,
  services: Services,
  browser: BrowserContext,
  sessionId: string,
  userId: string,
  clientId: string | null,
): Promise<void> {
  const now = services.clock.now();
  const families = await services.browserSessions.liveFamilyIds(sessionId);
  for (const familyId of families)
    await services.refreshTokens.revokeFamily(familyId, 'logout', now);
  const notified = await services.backchannelLogout.endSession(sessionId, 'logout');
  // The session has ended with its notices queued; this only deletes the cookie.
  await browser.sessions.end(ctx, null);
  await services.audit.record({
    type: 'session.ended',
    userId,
    clientId,
    ip: ctx.ip,
    requestId: ctx.state.requestId,
    details: {
      families: families.length,
      ...(notified ? { backchannel_logout_tokens: notified } : {}),
    },
  });
}
