/** The error page: shown instead of redirecting when the client or redirect URI is not trusted. */
import type { AppContext } from '../types';
import { escapeHtml, renderPage } from './layout';

export function renderErrorPage(
  ctx: AppContext,
  title: string,
  detail: string,
  status = 400,
): void {
  ctx.state.rejection = { description: `${title}: ${detail}` };
  renderPage(ctx, {
    title,
    status,
    body: `<h1>${escapeHtml(title)}</h1>
<p role="alert">${escapeHtml(detail)}</p>
<p class="muted">Return to the application you came from and try again. Reference: ${escapeHtml(String(ctx.state.requestId ?? ''))}</p>`,
  });
}
