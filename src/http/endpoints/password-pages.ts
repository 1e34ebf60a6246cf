/**
 * Forgot password and reset pages (accounts/password-reset.ts): the same "check your email"
 * page for every address, the new-password form behind a single-use link, and "password
 * changed". CSRF-protected and throttled like every self-service form (self-service-forms.ts).
 */
import type { Middleware } from 'koa';
import {
  LinkInvalid,
  PasswordRefused,
  requestPasswordReset,
  resetPassword,
  usableResetLink,
} from '../../accounts/password-reset';
import type { Services } from '../../services';
import type { BrowserContext } from '../../sessions';
import {
  renderAccountNoticePage,
  renderCheckEmailPage,
  renderForgotPasswordPage,
  renderResetPasswordPage,
} from '../pages/account-forms';
import type { AppContext, AppState } from '../types';
import { field, guarded, looksLikeEmail, mailFailure, requestContext } from './self-service-forms';

export interface PasswordPages {
  showForgot: Middleware<AppState>;
  forgot: Middleware<AppState>;
  showReset: Middleware<AppState>;
  reset: Middleware<AppState>;
}

export function passwordPages(services: Services, browser: BrowserContext): PasswordPages {
  const { interactions } = browser;

  const showForgot: Middleware<AppState> = (ctx) =>
    guarded(ctx, () => {
      renderForgotPasswordPage(ctx, {
        csrf: interactions.csrfToken(ctx, 'forgot'),
        email: field(ctx.state.params ?? {}, 'email', 254) || undefined,
      });
    });

  const forgot: Middleware<AppState> = (ctx) =>
    guarded(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'forgot', form.csrf_token);
      const email = field(form, 'email', 254);
      const again = (error: string, status: number) =>
        renderForgotPasswordPage(ctx, {
          csrf: interactions.csrfToken(ctx, 'forgot'),
          email,
          error,
          status,
        });
      if (!looksLikeEmail(email)) return again('Enter a valid email address.', 400);
      try {
        await requestPasswordReset(services, email, requestContext(ctx));
      } catch (err) {
        const failed = mailFailure(err, ctx);
        if (failed) return again(failed.message, failed.status);
        throw err;
      }
      renderCheckEmailPage(ctx, { csrf: interactions.csrfToken(ctx, 'resend'), kind: 'reset' });
    });

  const linkGone = (ctx: AppContext) =>
    renderAccountNoticePage(ctx, {
      title: 'This link no longer works',
      message: 'The reset link was already used or has expired. Ask for a new one.',
      status: 400,
    });

  const showReset: Middleware<AppState> = (ctx) =>
    guarded(ctx, async () => {
      const token = field(ctx.state.params ?? {}, 'token', 100);
      const link = await usableResetLink(services, token);
      if (!link) return linkGone(ctx);
      renderResetPasswordPage(ctx, {
        csrf: interactions.csrfToken(ctx, 'reset'),
        token,
        email: link.email,
      });
    });

  const reset: Middleware<AppState> = (ctx) =>
    guarded(ctx, async () => {
      const form = ctx.state.params ?? {};
      interactions.checkCsrf(ctx, 'reset', form.csrf_token);
      const token = field(form, 'token', 100);
      const password = form.password ?? '';
      try {
        await resetPassword(services, token, password, requestContext(ctx));
      } catch (err) {
        if (err instanceof LinkInvalid) return linkGone(ctx);
        if (err instanceof PasswordRefused) {
          const link = await usableResetLink(services, token);
          if (!link) return linkGone(ctx);
          return renderResetPasswordPage(ctx, {
            csrf: interactions.csrfToken(ctx, 'reset'),
            token,
            email: link.email,
            error: err.message,
            status: 400,
          });
        }
        const failed = mailFailure(err, ctx);
        if (failed) return renderAccountNoticePage(ctx, { title: 'Please try again', ...failed });
        throw err;
      }
      renderAccountNoticePage(ctx, {
        title: 'Password changed',
        message:
          'Your new password is set and every device was signed out. Sign in again with the new password.',
      });
    });

  return { showForgot, forgot, showReset, reset };
}
