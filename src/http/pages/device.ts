/**
 * The device verification pages (RFC 8628 §3.3): enter the code, confirm it (the code shown
 * large, since the device grant is phishable by design — §5.4 — and a user lured into typing
 * an attacker's code should get one clear chance to notice it is not the one on their own
 * screen), and the end state. Same frame, CSP and CSRF habits as the login and consent pages.
 */
import { describeScope } from '../../oauth/authorization/scopes';
import type { AppContext } from '../types';
import { escapeHtml, originOf, renderPage } from './layout';

export interface DeviceCodePage {
  csrf: string;
  /** What to prefill (verification_uri_complete, or what the user typed). */
  userCode?: string | undefined;
  error?: string | undefined;
  status?: number;
}

export function renderDeviceCodePage(ctx: AppContext, page: DeviceCodePage): void {
  const err = page.error;
  const invalid = err ? ' aria-invalid="true" aria-describedby="device-error"' : '';
  renderPage(ctx, {
    title: 'Connect a device',
    status: page.status ?? 200,
    body: `<h1>Connect a device</h1>
<p class="muted">Enter the code shown on your TV, console or other device.</p>
${err ? `<p id="device-error" class="error" role="alert">${escapeHtml(err)}</p>` : ''}
<form method="post" action="/device" novalidate>
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrf)}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" class="code" placeholder="XXXX-XXXX" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="20" required value="${escapeHtml(page.userCode ?? '')}"${invalid} autofocus>
<div class="actions"><button type="submit" class="primary">Continue</button></div>
</form>`,
  });
}

export interface DeviceConfirmPage {
  clientName: string;
  clientUri?: string | null;
  logoUri?: string | null;
  userEmail: string;
  /** The code as the device shows it (XXXX-XXXX). */
  userCode: string;
  scopes: string[];
  resources?: readonly string[];
  interaction: string;
  csrf: string;
}

export function renderDeviceConfirmPage(ctx: AppContext, page: DeviceConfirmPage): void {
  const items = [
    ...page.scopes.map((s) => `<li>${escapeHtml(describeScope(s))}</li>`),
    ...(page.resources ?? []).map((r) => `<li>Access ${escapeHtml(r)} on your behalf</li>`),
  ].join('\n');
  const logoOrigin = page.logoUri ? originOf(page.logoUri) : null;
  const logo = logoOrigin
    ? `<img src="${escapeHtml(page.logoUri!)}" alt="" width="48" height="48">`
    : '';
  const home = page.clientUri ? new URL(page.clientUri).host : null;
  renderPage(ctx, {
    title: 'Confirm the device',
    ...(logoOrigin ? { imageOrigins: [logoOrigin] } : {}),
    body: `<div class="client">${logo}<h1>Connect ${escapeHtml(page.clientName)}?</h1></div>
${home ? `<p class="muted">From ${escapeHtml(home)}</p>` : ''}
<p class="muted">Signed in as ${escapeHtml(page.userEmail)}</p>
<p id="device-code-label"><strong>Make sure this code matches the one on your device:</strong></p>
<p class="user-code" aria-labelledby="device-code-label">${escapeHtml(page.userCode)}</p>
<p class="muted">If you did not start this on a device in front of you, or the code differs, choose Deny: someone may be trying to get access to your account.</p>
<p id="device-scopes-label">The device would be able to:</p>
<ul class="scopes" aria-labelledby="device-scopes-label">
${items}
</ul>
<form method="post" action="/device/confirm">
<input type="hidden" name="interaction" value="${escapeHtml(page.interaction)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrf)}">
<div class="actions">
<button type="submit" name="decision" value="allow" class="primary">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary" autofocus>Deny</button>
</div>
</form>`,
  });
}

/** The end state: the user decided; the device learns it on its next poll. */
export function renderDeviceDonePage(ctx: AppContext, approved: boolean, clientName: string): void {
  renderPage(ctx, {
    title: approved ? 'Device connected' : 'Request denied',
    body: approved
      ? `<h1>Device connected</h1>
<p role="status">You are all set: <strong>${escapeHtml(clientName)}</strong> can now use your account. Return to your device; it will continue on its own.</p>
<p class="muted">You can close this window.</p>`
      : `<h1>Request denied</h1>
<p role="status"><strong>${escapeHtml(clientName)}</strong> was not given access to your account.</p>
<p class="muted">You can close this window.</p>`,
  });
}
