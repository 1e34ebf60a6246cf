/**
 * The sign-up pages: sign-up (SIGNUP=open|invite, and prompt=create from /authorize), email
 * verification and resending its link; forgot password and reset are in password-pages.ts.
 * Each form is CSRF-protected (the synchronizer token of the sign-in pages,
 * oauth/authorization/interaction.ts), throttled per IP and per address
 * (accounts/self-service-limits.ts) and answers a form POST with a page. A failing mail server
 * answers 503 "we could not send the email" with nothing kept (accounts/signup.ts).
 */
import type { Middleware } from 'koa';
import type { Continuation } from '../../accounts/email-token-storage';
import { LinkInvalid, PasswordRefused } from '../../accounts/password-reset';
import { resendVerification, signUp, usableInvitation, verifyEmail } from '../../accounts/signup';
import type { InteractionState } from '../../oauth/authorization/interaction';
import type { Services } from '../../services';
import type { BrowserContext } from '../../sessions';
import {
  renderAccountNoticePage,
  renderCheckEmailPage,
  renderSignUpPage,
  renderVerifyEmailPage,
} from '../pages/account-forms';
import { field, guarded, looksLikeEmail, mailFailure, requestContext } from './self-service-forms';
import type { AppContext, AppState } from '../types';

/** What the sign-in pages offer the self-service pages: a sign-in to name and to resume. */
export interface SignInResumption {
  /** The client a sealed sign-in is for (re-validated), to name on the sign-up page. */
  clientName(state: InteractionState): Promise<string>;
  /** Shows the login page of a sign-in to continue, the address filled in. */
  resume(ctx: AppContext, state: InteractionState, email: string): Promise<void>;
}

export interface SelfServiceEndpoints {
  showSignUp: Middleware<AppState>;
  signUp: Middleware<AppState>;
  showVerify: Middleware<AppState>;
  verify: Middleware<AppState>;
  resend: Middleware<AppState>;
}

export function selfServiceEndpoints(
  services: Services,
  browser: BrowserContext,
  signIn: SignInResumption,
): SelfServiceEndpoints {
  const { interactions } = browser;

  async function signUpPage(
    ctx: AppContext,
    form: Record<string, string>,
    extra: { error?: string; status?: number; email?: string; name?: string },
  ): Promise<void> {
    const sealed = form.interaction;
    const state = sealed ? interactions.open(ctx, sealed) : null;
    const invitation =
      services.config.SIGNUP === 'invite'
        ? await usableInvitation(services, form.invitation)
        : null;
    if (services.config.SIGNUP === 'invite' && !invitation)
      return renderAccountNoticePage(ctx, {
        title: 'Invitation needed',
        message:
          'Accounts here are created by invitation only. Open the invitation link you received; if it no longer works, ask for a new one.',
        status: 403,
      });
    renderSignUpPage(ctx, {
      csrf: interactions.csrfToken(ctx, 'signup'),
      interaction: state ? interactions.seal(ctx, state) : undefined,
      invitation: invitation ? { token: form.invitation!, email: invitation.email } : undefined,
      clientName: state ? await signIn.clientName(state) : undefined,
      email: extra.email,
      name: extra.name,
      error: extra.error,
      ...(extra.status ? { status: extra.status } : {}),
    });
  }

  const showSignUp: Middleware<AppState> = (ctx) =>
    guarded(ctx, () => signUpPage(ctx, ctx.state.params ?? {}, {}));

  const signUpPost: Middleware<AppState> = (ctx) =>
    guarded(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'signup', form.csrf_token);
      const state = form.interaction ? interactions.open(ctx, form.interaction) : null;
      const email = field(form, 'email', 254);
      const name = field(form, 'name', 200);
      const password = form.password ?? '';
      const again = (error: string, status: number) =>
        signUpPage(ctx, form, { error, status, email, name });
      if (!name || (services.config.SIGNUP === 'open' && !looksLikeEmail(email)))
        return again('Enter your name and a valid email address.', 400);
      const continuation: Continuation | null = state
        ? {
            params: state.params,
            ...(state.origin ? { origin: state.origin } : {}),
            ...(state.resource ? { resource: state.resource } : {}),
          }
        : null;
      try {
        await signUp(
          services,
          { email, password, name, invitation: form.invitation, continuation },
          requestContext(ctx),
        );
      } catch (err) {
        if (err instanceof PasswordRefused) return again(err.message, 400);
        if (err instanceof LinkInvalid) return again('This invitation can no longer be used.', 403);
        const failed = mailFailure(err, ctx);
        if (failed) return again(failed.message, failed.status);
        throw err;
      }
      renderCheckEmailPage(ctx, {
        csrf: interactions.csrfToken(ctx, 'resend'),
        kind: 'verification',
        email,
      });
    });

  const showVerify: Middleware<AppState> = (ctx) =>
    guarded(ctx, () => {
      renderVerifyEmailPage(ctx, {
        csrf: interactions.csrfToken(ctx, 'verify'),
        token: field(ctx.state.params ?? {}, 'token', 100),
      });
    });

  const verify: Middleware<AppState> = (ctx) =>
    guarded(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'verify', form.csrf_token);
      let verified;
      try {
        verified = await verifyEmail(services, form.token, requestContext(ctx));
      } catch (err) {
        if (err instanceof LinkInvalid)
          return renderAccountNoticePage(ctx, {
            title: 'This link no longer works',
            message:
              'The link was already used or has expired. Sign in; if your address is not confirmed yet, you can ask for a new link there.',
            status: 400,
          });
        throw err;
      }
      if (verified.continuation) {
        const state: InteractionState = {
          params: verified.continuation.params,
          ...(verified.continuation.origin ? { origin: verified.continuation.origin } : {}),
          ...(verified.continuation.resource ? { resource: verified.continuation.resource } : {}),
        };
        return signIn.resume(ctx, state, verified.email);
      }
      renderAccountNoticePage(ctx, {
        title: 'Email address confirmed',
        message: 'Thank you. You can now sign in to the application with your email and password.',
      });
    });

  const resend: Middleware<AppState> = (ctx) =>
    guarded(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'resend', form.csrf_token);
      const email = field(form, 'email', 254);
      const page = (notice?: string, status?: number) => {
        renderCheckEmailPage(ctx, {
          csrf: interactions.csrfToken(ctx, 'resend'),
          kind: 'verification',
          email,
          notice,
        });
        if (status) ctx.status = status;
      };
      if (!looksLikeEmail(email)) return page('Enter a valid email address.', 400);
      try {
        await resendVerification(services, email, requestContext(ctx));
      } catch (err) {
        const failed = mailFailure(err, ctx);
        if (failed) return page(failed.message, failed.status);
        throw err;
      }
      page();
    });

  return {
    showSignUp,
    signUp: signUpPost,
    showVerify,
    verify,
    resend,
  };
}
