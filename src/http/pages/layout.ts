/**
 * The frame of every server-rendered page (login, consent, device, logout, errors): plain HTML that
 * works without JavaScript, one inline stylesheet allowed by its hash, and headers that keep
 * the pages out of caches and frames.
 *
 * Content-Security-Policy: nothing may load but that stylesheet (default-src 'none'), forms
 * may post only here — plus, where a form's response redirects to a client, that client's
 * origin, since browsers apply form-action to the redirect too — and no site may frame the
 * pages (frame-ancestors 'none', clickjacking; RFC 9700 §4.16). A page that shows a client's
 * registered logo allows images from that one origin (img-src).
 */
import { createHash } from 'node:crypto';
import type { AppContext } from '../types';

const CSS = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#1d2330;--muted:#5b6475;--accent:#2f5bea;--accent-fg:#fff;--err:#b42318;--border:#d0d5dd}
@media (prefers-color-scheme:dark){:root{--bg:#11151c;--card:#1a2029;--fg:#e7eaf0;--muted:#a3acbb;--accent:#7c9cff;--accent-fg:#0b1020;--err:#ff8a80;--border:#394150}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:26rem;margin:1.5rem;padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:12px}
.brand{margin:0 0 1.25rem;font-size:.85rem;letter-spacing:.12em;text-transform:uppercase;color:var(--muted)}
h1{margin:0 0 .5rem;font-size:1.4rem}
p{margin:.25rem 0 1rem}
.muted{color:var(--muted)}
label{display:block;margin:1rem 0 .35rem;font-weight:600}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.65rem .75rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--border);border-radius:8px}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
input[aria-invalid=true]{border-color:var(--err)}
.error{color:var(--err);font-weight:600}
input.code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:1.25rem;letter-spacing:.12em;text-transform:uppercase}
.user-code{margin:.5rem 0 1rem;padding:.75rem;font:600 1.9rem/1.2 ui-monospace,SFMono-Regular,Menlo,monospace;letter-spacing:.15em;text-align:center;border:2px dashed var(--accent);border-radius:8px}
ul.scopes{padding-left:1.25rem;margin:.5rem 0 1.25rem}
.client{display:flex;align-items:center;gap:.75rem;margin:0 0 .75rem}
.client img{width:48px;height:48px;object-fit:contain;border-radius:8px;border:1px solid var(--border)}
a{color:var(--accent)}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
button{flex:1;padding:.7rem 1rem;font:inherit;font-weight:600;border-radius:8px;border:1px solid var(--accent);cursor:pointer}
button.primary{background:var(--accent);color:var(--accent-fg)}
button.secondary{background:transparent;color:var(--fg);border-color:var(--border)}
`;

const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export interface PageOptions {
  title: string;
  /** Inner HTML of <main>, already escaped. */
  body: string;
  status?: number;
  /** Origins (besides 'self') a form on the page may end up at via redirect. */
  formOrigins?: string[];
  /** Origins images on the page come from (a client's logo); none by default. */
  imageOrigins?: string[];
}

export function renderPage(ctx: AppContext, page: PageOptions): void {
  const formAction = ["'self'", ...new Set(page.formOrigins ?? [])].join(' ');
  const images = [...new Set(page.imageOrigins ?? [])];
  const imgSrc = images.length ? `; img-src ${images.join(' ')}` : '';
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none'; style-src ${STYLE_HASH}${imgSrc}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  // RFC 6749 §10.12 / OWASP: pages carrying credentials or CSRF tokens are never cached.
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.status = page.status ?? 200;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(page.title)} · Tessera</title>
<style>${CSS}</style>
</head>
<body>
<main>
<p class="brand">Tessera</p>
${page.body}
</main>
</body>
</html>`;
}

/** The origin of an absolute URL, for form-action (null when it cannot be parsed). */
export function originOf(uri: string): string | null {
  try {
    const origin = new URL(uri).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}
