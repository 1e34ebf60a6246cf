/**
 * What the self-service form handlers share (self-service.ts, password-pages.ts): reading a
 * form field, the "page expired" answer to a forged or stale form (CSRF, the sign-in pages'
 * synchronizer token), and the answers to a throttled request or a mail that could not be sent.
 */
import { SelfServiceThrottled } from '../../accounts/self-service-limits';
import { MailNotSent } from '../../mail/mailer';
import { InteractionError } from '../../oauth/authorization/interaction';
import { renderErrorPage } from '../pages/error';
import { MAIL_FAILED, tryAgainIn } from '../pages/messages';
import type { AppContext } from '../types';

export const field = (form: Record<string, string>, name: string, max: number) =>
  (form[name] ?? '').trim().slice(0, max);

export const looksLikeEmail = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);

export const requestContext = (ctx: AppContext) => ({ ip: ctx.ip, requestId: ctx.state.requestId });

/** Runs a form step: an expired or forged form becomes the "page expired" page. */
export async function guarded(ctx: AppContext, run: () => Promise<void> | void): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof InteractionError)
      return renderErrorPage(
        ctx,
        'This page has expired',
        'For your security this page can no longer be used. Open it again and retry.',
        403,
      );
    throw err;
  }
}

/** A throttled request (429, Retry-After) or a mail server that failed (503): what the page says. */
export function mailFailure(
  err: unknown,
  ctx: AppContext,
): { message: string; status: number } | null {
  if (err instanceof SelfServiceThrottled) {
    ctx.set('Retry-After', String(err.retryAfterSeconds));
    return { message: `Too many requests. ${tryAgainIn(err.retryAfterSeconds)}`, status: 429 };
  }
  if (err instanceof MailNotSent) {
    ctx.set('Retry-After', '30');
    return { message: MAIL_FAILED, status: 503 };
  }
  return null;
}
