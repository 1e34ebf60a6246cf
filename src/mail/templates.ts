/**
 * The mails Tessera sends, each a plain-text and an HTML body from one template: a greeting,
 * paragraphs, at most one button-like link (absolute, under ISSUER), and a closing line. All
 * user-facing words of a mail live in its template here, so a message catalogue can replace them.
 */
import { escapeHtml } from '../http/pages/layout';
import type { OutgoingMail } from './mailer';

const PRODUCT = 'Tessera';

interface MailContent {
  subject: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  /** After the link (e.g. how long it works, what to do if it was not you). */
  after?: string[];
}

function render(to: string, content: MailContent): OutgoingMail {
  const { subject, paragraphs, action, after = [] } = content;
  const text = [
    ...paragraphs,
    ...(action ? [`${action.label}:\n${action.url}`] : []),
    ...after,
    `— ${PRODUCT}`,
  ].join('\n\n');
  const p = (s: string) => `<p style="margin:0 0 16px">${escapeHtml(s)}</p>`;
  const button = action
    ? `<p style="margin:0 0 16px"><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:10px 18px;background:#2f5bea;color:#fff;border-radius:8px;text-decoration:none;font-weight:600">${escapeHtml(action.label)}</a></p>
<p style="margin:0 0 16px;color:#5b6475;font-size:13px">${escapeHtml(action.url)}</p>`
    : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font:16px/1.5 system-ui,sans-serif;color:#1d2330">
<div style="max-width:32rem;margin:0 auto;padding:24px;background:#fff;border:1px solid #d0d5dd;border-radius:12px">
<p style="margin:0 0 16px;font-size:13px;letter-spacing:.12em;text-transform:uppercase;color:#5b6475">${PRODUCT}</p>
${paragraphs.map(p).join('\n')}
${button}
${after.map(p).join('\n')}
</div></body></html>`;
  return { to, subject, text, html, links: action ? [action.url] : [] };
}

const minutes = (seconds: number) => Math.max(1, Math.round(seconds / 60));
const duration = (seconds: number) =>
  seconds >= 7200 ? `${Math.round(seconds / 3600)} hours` : `${minutes(seconds)} minutes`;

export const mails = {
  verifyEmail: (to: string, url: string, ttlSeconds: number) =>
    render(to, {
      subject: `Confirm your email address for ${PRODUCT}`,
      paragraphs: ['Confirm that this is your email address to finish creating your account.'],
      action: { label: 'Confirm your email address', url },
      after: [
        `The link works once, for ${duration(ttlSeconds)}.`,
        'If you did not create an account, ignore this email: without confirmation it cannot be used.',
      ],
    }),

  alreadyRegistered: (to: string, signInUrl: string, resetUrl: string) =>
    render(to, {
      subject: `You already have a ${PRODUCT} account`,
      paragraphs: [
        'Someone, probably you, tried to create an account with this email address. You already have one.',
        `Sign in at ${signInUrl}, or if you forgot your password, reset it:`,
      ],
      action: { label: 'Reset your password', url: resetUrl },
      after: ['If this was not you, ignore this email: nothing has changed.'],
    }),

  resetPassword: (to: string, url: string, ttlSeconds: number) =>
    render(to, {
      subject: `Reset your ${PRODUCT} password`,
      paragraphs: ['We received a request to reset the password of your account.'],
      action: { label: 'Choose a new password', url },
      after: [
        `The link works once, for ${duration(ttlSeconds)}.`,
        'If you did not ask for this, ignore this email: your password stays as it is.',
      ],
    }),

  noAccount: (to: string, signUpUrl: string | null) =>
    render(to, {
      subject: `${PRODUCT} password reset`,
      paragraphs: [
        'Someone, probably you, asked to reset the password of an account with this email address, but there is no account with it.',
        ...(signUpUrl ? [] : ['If you expected one, ask the people who run this service.']),
      ],
      ...(signUpUrl ? { action: { label: 'Create an account', url: signUpUrl } } : {}),
      after: ['If this was not you, ignore this email.'],
    }),

  passwordChanged: (to: string, forgotUrl: string) =>
    render(to, {
      subject: `Your ${PRODUCT} password was changed`,
      paragraphs: [
        'The password of your account was just reset, and every device signed in to it was signed out.',
        'If you did not do this, reset your password now and contact the people who run this service.',
      ],
      action: { label: 'Reset your password', url: forgotUrl },
    }),
};
