/** Logout pages: the confirmation (when the request does not prove who asks) and "signed out". */
import type { AppContext } from '../types';
import { escapeHtml, renderPage } from './layout';

export interface LogoutConfirmPage {
  clientName: string | undefined;
  csrf: string;
  /** Hidden fields carried to the confirming POST (post_logout_redirect_uri, state, client_id). */
  carry: Record<string, string>;
  formOrigins: string[];
}

export function renderLogoutConfirmPage(ctx: AppContext, page: LogoutConfirmPage): void {
  const hidden = Object.entries(page.carry)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  renderPage(ctx, {
    title: 'Sign out',
    formOrigins: page.formOrigins,
    body: `<h1>Sign out?</h1>
<p>${page.clientName ? `<strong>${escapeHtml(page.clientName)}</strong> asks to sign you out.` : 'Do you want to sign out of Tessera?'}</p>
<form method="post" action="/session/end">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrf)}">
<input type="hidden" name="confirm" value="yes">
${hidden}
<div class="actions"><button type="submit" class="primary" autofocus>Sign out</button></div>
</form>`,
  });
}

export function renderSignedOutPage(ctx: AppContext): void {
  renderPage(ctx, {
    title: 'Signed out',
    body: `<h1>You are signed out</h1>
<p role="status">You can close this window.</p>`,
  });
}
