/**
 * The self-service pages (sign-up, verification, forgot password, reset): same frame, CSP,
 * CSRF and accessibility habits as the login page — labelled fields, the error tied to them by
 * aria-describedby and announced (role=alert), focus where the user has to type, no JavaScript.
 */
import type { AppContext } from '../types';
import { escapeHtml, renderPage } from './layout';

const hidden = (fields: Record<string, string | undefined>) =>
  Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v!)}">`)
    .join('\n');

const errorLine = (id: string, error: string | undefined) =>
  error ? `<p id="${id}" class="error" role="alert">${escapeHtml(error)}</p>` : '';

const invalid = (id: string, error: string | undefined) =>
  error ? ` aria-invalid="true" aria-describedby="${id}"` : '';

export interface SignUpPage {
  csrf: string;
  /** Sealed sign-in to continue (prompt=create), when there is one. */
  interaction?: string | undefined;
  /** SIGNUP=invite: the invitation token and the address it is for (not editable). */
  invitation?: { token: string; email: string } | undefined;
  email?: string | undefined;
  name?: string | undefined;
  error?: string | undefined;
  status?: number;
  clientName?: string | undefined;
}

export function renderSignUpPage(ctx: AppContext, page: SignUpPage): void {
  const err = page.error;
  const email = page.invitation?.email ?? page.email ?? '';
  renderPage(ctx, {
    title: 'Create your account',
    status: page.status ?? 200,
    body: `<h1>Create your account</h1>
${page.clientName ? `<p class="muted">to continue to <strong>${escapeHtml(page.clientName)}</strong></p>` : ''}
${errorLine('signup-error', err)}
<form method="post" action="/signup" novalidate>
${hidden({ csrf_token: page.csrf, interaction: page.interaction, invitation: page.invitation?.token })}
<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="name" required maxlength="200" value="${escapeHtml(page.name ?? '')}"${page.name ? '' : ' autofocus'}>
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${escapeHtml(email)}"${page.invitation ? ' readonly' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" aria-describedby="password-help${err ? ' signup-error' : ''}"${err ? ' aria-invalid="true"' : ''}${page.name ? ' autofocus' : ''}>
<p id="password-help" class="muted">At least 8 characters. A long phrase is easier to remember and harder to guess.</p>
<div class="actions"><button type="submit" class="primary">Create account</button></div>
</form>
<p class="muted">Already have an account? Go back to the application and sign in.</p>`,
  });
}

export interface CheckEmailPage {
  csrf: string;
  /** What the mail is for: the page offers to resend a verification mail. */
  kind: 'verification' | 'reset';
  email?: string | undefined;
  notice?: string | undefined;
}

export function renderCheckEmailPage(ctx: AppContext, page: CheckEmailPage): void {
  const what =
    page.kind === 'verification'
      ? 'If the address can be used, we sent a link to confirm it. Follow it to finish, then sign in.'
      : 'If an account uses this address, we sent a link to reset its password. Follow it to choose a new one.';
  const resend =
    page.kind === 'verification'
      ? `<form method="post" action="/verify-email/resend" novalidate>
${hidden({ csrf_token: page.csrf })}
<label for="email">Did not get it? Send it again to</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${escapeHtml(page.email ?? '')}">
<div class="actions"><button type="submit" class="secondary">Send the email again</button></div>
</form>`
      : '';
  renderPage(ctx, {
    title: 'Check your email',
    body: `<h1>Check your email</h1>
<p role="status">${escapeHtml(page.notice ?? what)}</p>
<p class="muted">The link works once and for a limited time. Look in your spam folder if you do not see it.</p>
${resend}`,
  });
}

export interface ForgotPasswordPage {
  csrf: string;
  email?: string | undefined;
  error?: string | undefined;
  status?: number;
}

export function renderForgotPasswordPage(ctx: AppContext, page: ForgotPasswordPage): void {
  const err = page.error;
  renderPage(ctx, {
    title: 'Reset your password',
    status: page.status ?? 200,
    body: `<h1>Reset your password</h1>
<p class="muted">Enter the email address of your account and we will send you a link to choose a new password.</p>
${errorLine('forgot-error', err)}
<form method="post" action="/forgot-password" novalidate>
${hidden({ csrf_token: page.csrf })}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${escapeHtml(page.email ?? '')}"${invalid('forgot-error', err)} autofocus>
<div class="actions"><button type="submit" class="primary">Send the link</button></div>
</form>`,
  });
}

export interface ResetPasswordPage {
  csrf: string;
  token: string;
  email: string;
  error?: string | undefined;
  status?: number;
}

export function renderResetPasswordPage(ctx: AppContext, page: ResetPasswordPage): void {
  const err = page.error;
  renderPage(ctx, {
    title: 'Choose a new password',
    status: page.status ?? 200,
    body: `<h1>Choose a new password</h1>
<p class="muted">for ${escapeHtml(page.email)}</p>
${errorLine('reset-error', err)}
<form method="post" action="/reset-password" novalidate>
${hidden({ csrf_token: page.csrf, token: page.token })}
<input type="text" name="username" autocomplete="username" value="${escapeHtml(page.email)}" hidden>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" aria-describedby="password-help${err ? ' reset-error' : ''}"${err ? ' aria-invalid="true"' : ''} autofocus>
<p id="password-help" class="muted">At least 8 characters. Every device signed in to your account will be signed out.</p>
<div class="actions"><button type="submit" class="primary">Set the new password</button></div>
</form>`,
  });
}

/** GET of a verification link shows a button: a mail scanner fetching the link uses nothing. */
export function renderVerifyEmailPage(
  ctx: AppContext,
  page: { csrf: string; token: string },
): void {
  renderPage(ctx, {
    title: 'Confirm your email address',
    body: `<h1>Confirm your email address</h1>
<p>One more step: confirm that this address is yours.</p>
<form method="post" action="/verify-email">
${hidden({ csrf_token: page.csrf, token: page.token })}
<div class="actions"><button type="submit" class="primary" autofocus>Confirm</button></div>
</form>`,
  });
}

/** An end state (email confirmed, password changed) or a link that no longer works. */
export function renderAccountNoticePage(
  ctx: AppContext,
  page: { title: string; message: string; status?: number },
): void {
  renderPage(ctx, {
    title: page.title,
    status: page.status ?? 200,
    body: `<h1>${escapeHtml(page.title)}</h1>
<p role="${(page.status ?? 200) >= 400 ? 'alert' : 'status'}">${escapeHtml(page.message)}</p>`,
  });
}
