/**
 * The login page: email and password with labels, the error tied to the fields by
 * aria-describedby, focus on the first field that needs attention, no JavaScript.
 */
import type { AppContext } from '../types';
import { escapeHtml, renderPage } from './layout';

export interface LoginPage {
  clientName: string;
  /** Sealed sign-in state and CSRF token (hidden fields). */
  interaction: string;
  csrf: string;
  email?: string | undefined;
  error?: string | undefined;
  status?: number;
  formOrigins: string[];
  /** Where the form posts: /login, or another sign-in step's target (the device page's). */
  action?: string;
  /** Self-service links shown under the form, when those pages are on. */
  links?: {
    forgotPassword?: string;
    signUp?: string;
    /** The account's email is not verified: offer to send the link again (its CSRF token). */
    resendCsrf?: string;
  };
}

export function renderLoginPage(ctx: AppContext, page: LoginPage): void {
  const err = page.error;
  const invalid = err ? ' aria-invalid="true" aria-describedby="login-error"' : '';
  const email = page.email ?? '';
  // Focus where the user has to type: the password once the email is known.
  const focusEmail = !email;
  renderPage(ctx, {
    title: 'Sign in',
    status: page.status ?? 200,
    formOrigins: page.formOrigins,
    body: `<h1>Sign in</h1>
<p class="muted">to continue to <strong>${escapeHtml(page.clientName)}</strong></p>
${err ? `<p id="login-error" class="error" role="alert">${escapeHtml(err)}</p>` : ''}
<form method="post" action="${escapeHtml(page.action ?? '/login')}" novalidate>
<input type="hidden" name="interaction" value="${escapeHtml(page.interaction)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrf)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email)}"${invalid}${focusEmail ? ' autofocus' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}${focusEmail ? '' : ' autofocus'}>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>
${selfServiceLinks(page, email)}`,
  });
}

function selfServiceLinks(page: LoginPage, email: string): string {
  const links = page.links ?? {};
  const resend = links.resendCsrf
    ? `<form method="post" action="/verify-email/resend">
<input type="hidden" name="csrf_token" value="${escapeHtml(links.resendCsrf)}">
<input type="hidden" name="email" value="${escapeHtml(email)}">
<div class="actions"><button type="submit" class="secondary">Send the confirmation email again</button></div>
</form>`
    : '';
  const items = [
    links.forgotPassword
      ? `<a href="${escapeHtml(links.forgotPassword)}">Forgot your password?</a>`
      : '',
    links.signUp ? `<a href="${escapeHtml(links.signUp)}">Create an account</a>` : '',
  ].filter(Boolean);
  return `${resend}${items.length ? `\n<p class="muted">${items.join(' · ')}</p>` : ''}`;
}
