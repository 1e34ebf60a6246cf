/** The consent page: which application asks for what, in plain words; approve or deny. */
import { describeScope } from '../../oauth/authorization/scopes';
import type { AppContext } from '../types';
import { escapeHtml, originOf, renderPage } from './layout';

export interface ConsentPage {
  clientName: string;
  /** The client's registered home page and logo (RFC 7591 §2), when it has them. */
  clientUri?: string | null;
  logoUri?: string | null;
  userEmail: string;
  scopes: string[];
  /** RFC 8707: the resources (APIs) the access would be for; none named: not listed. */
  resources?: readonly string[];
  interaction: string;
  csrf: string;
  formOrigins: string[];
}

export function renderConsentPage(ctx: AppContext, page: ConsentPage): void {
  const items = [
    ...page.scopes.map((s) => `<li>${escapeHtml(describeScope(s))}</li>`),
    ...(page.resources ?? []).map((r) => `<li>Access ${escapeHtml(r)} on your behalf</li>`),
  ].join('\n');
  const logoOrigin = page.logoUri ? originOf(page.logoUri) : null;
  const logo = logoOrigin
    ? `<img src="${escapeHtml(page.logoUri!)}" alt="" width="48" height="48">`
    : '';
  const home = page.clientUri ? new URL(page.clientUri).host : null;
  const homeLink = home
    ? `<p class="muted">From <a href="${escapeHtml(page.clientUri!)}" rel="noopener noreferrer" target="_blank">${escapeHtml(home)}</a></p>`
    : '';
  renderPage(ctx, {
    title: 'Allow access',
    formOrigins: page.formOrigins,
    ...(logoOrigin ? { imageOrigins: [logoOrigin] } : {}),
    body: `<div class="client">${logo}<h1>Allow ${escapeHtml(page.clientName)}?</h1></div>
${homeLink}
<p class="muted">Signed in as ${escapeHtml(page.userEmail)}</p>
<p id="consent-scopes-label"><strong>${escapeHtml(page.clientName)}</strong> would like to:</p>
<ul class="scopes" aria-labelledby="consent-scopes-label">
${items}
</ul>
<form method="post" action="/consent">
<input type="hidden" name="interaction" value="${escapeHtml(page.interaction)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrf)}">
<div class="actions">
<button type="submit" name="decision" value="allow" class="primary" autofocus>Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  });
}
