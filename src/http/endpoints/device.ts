/**
 * The device verification page (RFC 8628 §3.3), server-rendered like the sign-in pages:
 * - GET /device: the code form, prefilled from verification_uri_complete's `user_code` — the
 *   user still presses Continue, so a link alone approves nothing (§3.3.1);
 * - POST /device: the typed code (rate-limited per IP, oauth/device/verification.ts); then the
 *   login form when the browser has no session, else the confirmation;
 * - POST /device/login: the normal password login (accounts/login.ts, with its brute-force
 *   limits) starting a browser session, then the confirmation;
 * - POST /device/confirm: approve or deny; the end state says to return to the device.
 * Between steps the code travels sealed (AES-GCM, bound to the browser's cookie, with CSRF
 * tokens per step: oauth/authorization/interaction.ts) and every step finds the request again,
 * so a request that expired or was decided meanwhile is never acted on.
 */
import type { Middleware } from 'koa';
import { EmailNotVerified, LoginRejected, LoginThrottled, verifyLogin } from '../../accounts/login';
import { NOT_VERIFIED, tryAgainIn } from '../pages/messages';
import { InteractionError } from '../../oauth/authorization/interaction';
import type { DeviceAuthorizationRecord } from '../../oauth/device/device-storage';
import { formatUserCode, normalizeUserCode } from '../../oauth/device/user-code';
import {
  decideDeviceRequest,
  findBySealedUserCode,
  findByTypedUserCode,
  UserCodeRejected,
  UserCodeThrottled,
  type FoundDeviceRequest,
} from '../../oauth/device/verification';
import { splitScope } from '../../oauth/scope';
import type { Services } from '../../services';
import type { BrowserSessionRecord } from '../../sessions/browser-session-storage';
import type { BrowserContext } from '../../sessions';
import {
  renderDeviceCodePage,
  renderDeviceConfirmPage,
  renderDeviceDonePage,
} from '../pages/device';
import { renderErrorPage } from '../pages/error';
import { renderLoginPage } from '../pages/login';
import type { AppContext, AppState } from '../types';

export interface DeviceEndpoints {
  show: Middleware<AppState>;
  enter: Middleware<AppState>;
  login: Middleware<AppState>;
  confirm: Middleware<AppState>;
}

const GONE =
  'This code has expired or has already been used. Start again on your device to get a new code.';

export function deviceEndpoints(services: Services, browser: BrowserContext): DeviceEndpoints {
  const { sessions, interactions } = browser;
  const attempt = (ctx: AppContext) => ({ ip: ctx.ip, requestId: ctx.state.requestId });

  const codePage = (
    ctx: AppContext,
    extra: { userCode?: string; error?: string; status?: number } = {},
  ) => renderDeviceCodePage(ctx, { csrf: interactions.csrfToken(ctx, 'device'), ...extra });

  /** The request's client, if it may still be shown (not disabled). */
  async function clientOf(record: DeviceAuthorizationRecord) {
    const client = await services.clients.findById(record.clientId);
    return client && !client.disabled ? client : null;
  }

  /** The next step for a found request: sign in, or confirm. */
  async function proceed(ctx: AppContext, found: FoundDeviceRequest): Promise<void> {
    const session = await sessions.current(ctx);
    if (!session) return showLogin(ctx, found, {});
    return showConfirm(ctx, found, session);
  }

  async function showLogin(
    ctx: AppContext,
    found: FoundDeviceRequest,
    extra: { email?: string; error?: string; status?: number },
  ): Promise<void> {
    const client = await clientOf(found.record);
    if (!client) return codePage(ctx, { error: GONE, status: 400 });
    renderLoginPage(ctx, {
      clientName: client.name,
      interaction: interactions.seal(ctx, { params: { device_user_code: found.userCode } }),
      csrf: interactions.csrfToken(ctx, 'device-login'),
      email: extra.email,
      error: extra.error,
      ...(extra.status ? { status: extra.status } : {}),
      formOrigins: [],
      action: '/device/login',
    });
  }

  async function showConfirm(
    ctx: AppContext,
    found: FoundDeviceRequest,
    session: BrowserSessionRecord,
  ): Promise<void> {
    const client = await clientOf(found.record);
    if (!client) return codePage(ctx, { error: GONE, status: 400 });
    const user = await services.users.findById(session.userId);
    renderDeviceConfirmPage(ctx, {
      clientName: client.name,
      clientUri: client.clientUri,
      logoUri: client.logoUri,
      userEmail: user?.email ?? '',
      userCode: formatUserCode(found.userCode),
      scopes: splitScope(found.record.scope),
      resources: found.record.resources,
      interaction: interactions.seal(ctx, {
        params: { device_user_code: found.userCode },
        sessionId: session.id,
      }),
      csrf: interactions.csrfToken(ctx, 'device-confirm'),
    });
  }

  /** The request a sealed step names, still pending; null: it expired or was decided. */
  async function reopen(
    ctx: AppContext,
    sealed: string | undefined,
  ): Promise<{ found: FoundDeviceRequest | null; sessionId?: string }> {
    const state = interactions.open(ctx, sealed);
    const userCode = normalizeUserCode(state.params.device_user_code ?? '');
    if (!userCode) throw new InteractionError('not a device page state');
    const record = await findBySealedUserCode(services, userCode);
    return {
      found: record ? { record, userCode } : null,
      ...(state.sessionId ? { sessionId: state.sessionId } : {}),
    };
  }

  /** Runs a step; a forged, foreign or expired page state gets the "start again" page. */
  async function step(ctx: AppContext, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      if (!(err instanceof InteractionError)) throw err;
      ctx.state.log?.debug({ reason: err.message }, 'device page state rejected');
      renderErrorPage(
        ctx,
        'This page has expired',
        'For your security this page can no longer be used. Open the address shown on your device and enter the code again.',
        403,
      );
    }
  }

  const show: Middleware<AppState> = (ctx) => {
    const typed = ctx.state.params?.user_code;
    const userCode = typed === undefined ? null : normalizeUserCode(typed);
    codePage(ctx, userCode ? { userCode: formatUserCode(userCode) } : {});
  };

  const enter: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'device', form.csrf_token);
      const typed = (form.user_code ?? '').trim().slice(0, 64);
      let found: FoundDeviceRequest;
      try {
        found = await findByTypedUserCode(services, typed, attempt(ctx));
      } catch (err) {
        if (err instanceof UserCodeRejected)
          return codePage(ctx, {
            userCode: typed,
            error: err.malformed
              ? 'Enter the 8-letter code shown on your device, for example BCDF-GHJK.'
              : 'That code is not valid or has expired. Check the code on your device and try again.',
            status: 400,
          });
        if (err instanceof UserCodeThrottled) {
          ctx.set('Retry-After', String(err.retryAfterSeconds));
          return codePage(ctx, {
            userCode: typed,
            error: `Too many incorrect codes. ${tryAgainIn(err.retryAfterSeconds)}`,
            status: 429,
          });
        }
        throw err;
      }
      await proceed(ctx, found);
    });

  const login: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'device-login', form.csrf_token);
      const { found } = await reopen(ctx, form.interaction);
      if (!found) return codePage(ctx, { error: GONE, status: 400 });
      const email = (form.email ?? '').trim().slice(0, 254);
      const password = form.password ?? '';
      if (!email || !password || password.length > 1024)
        return showLogin(ctx, found, {
          email,
          error: 'Enter your email address and password.',
          status: 400,
        });
      try {
        const user = await verifyLogin(services, {
          email,
          password,
          ip: ctx.ip,
          clientId: found.record.clientId,
          requestId: ctx.state.requestId,
        });
        await showConfirm(ctx, found, await sessions.start(ctx, user.id, ['pwd']));
      } catch (err) {
        if (err instanceof EmailNotVerified)
          return showLogin(ctx, found, { email, error: NOT_VERIFIED, status: 403 });
        if (err instanceof LoginRejected)
          return showLogin(ctx, found, {
            email,
            error: 'The email address or password is incorrect.',
            status: 401,
          });
        if (err instanceof LoginThrottled) {
          ctx.set('Retry-After', String(err.retryAfterSeconds));
          return showLogin(ctx, found, {
            email,
            error: `Too many failed attempts. ${tryAgainIn(err.retryAfterSeconds)}`,
            status: 429,
          });
        }
        throw err;
      }
    });

  const confirm: Middleware<AppState> = (ctx) =>
    step(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'device-confirm', form.csrf_token);
      const { found, sessionId } = await reopen(ctx, form.interaction);
      if (!found) return codePage(ctx, { error: GONE, status: 400 });
      const session = await sessions.current(ctx);
      // The session changed since the page was shown (signed out, or another user): ask again.
      if (!session || session.id !== sessionId) return proceed(ctx, found);
      const approved = form.decision === 'allow';
      const client = await clientOf(found.record);
      if (
        !client ||
        !(await decideDeviceRequest(services, found.record, session, approved, attempt(ctx)))
      )
        return codePage(ctx, { error: GONE, status: 400 });
      renderDeviceDonePage(ctx, approved, client.name);
    });

  return { show, enter, login, confirm };
}
