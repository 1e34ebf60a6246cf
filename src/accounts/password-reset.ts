/**
 * Forgot password and reset. The request answers the same way whether or not the account
 * exists (OWASP ASVS 2.5 / account enumeration): both count against the same limits and both
 * send one mail — a reset link to an account, a "there is no account" notice otherwise — so
 * status, body and timing match, and a failing mail server fails both alike. A reset link is
 * single-use (email-links.ts); using it sets the new password, uses up the account's other
 * reset links, ends every session and refresh-token family of the account (with back-channel
 * logout tokens) and sends a notice to the address.
 */
import type { Services } from '../services';
import { endAllSessions } from '../oauth/revocation';
import { mails } from '../mail/templates';
import { MailNotSent } from '../mail/mailer';
import { issueLink, linkTokenHash } from './email-links';
import type { EmailTokenRecord } from './email-token-storage';
import { passwordProblem } from './password-policy';
import { countSelfServiceRequest } from './self-service-limits';

export type ResetDeps = Pick<
  Services,
  | 'config'
  | 'users'
  | 'emailTokens'
  | 'passwords'
  | 'mailer'
  | 'audit'
  | 'clock'
  | 'logins'
  | 'refreshTokens'
  | 'browserSessions'
  | 'backchannelLogout'
  | 'log'
>;

export interface RequestContext {
  ip: string;
  requestId?: string | null;
}

/** A new password the policy refuses (password-policy.ts); the message is for the user. */
export class PasswordRefused extends Error {
  override name = 'PasswordRefused';
}

/** The link is unknown, used or expired. */
export class LinkInvalid extends Error {
  override name = 'LinkInvalid';
}

/** Sends a reset link (or, for an unknown address, a notice); rejects with MailNotSent, storing nothing. */
export async function requestPasswordReset(
  deps: ResetDeps,
  email: string,
  req: RequestContext,
): Promise<void> {
  const { config } = deps;
  await countSelfServiceRequest(deps.logins, 'forgot', deps.clock.now(), req.ip, email);
  const user = await deps.users.findByEmail(email);
  if (!user) {
    const signUp = config.SIGNUP === 'open' ? `${config.issuer}/signup` : null;
    await deps.mailer.send(mails.noAccount(email, signUp));
    await deps.audit.record({
      type: 'password_reset.requested',
      ip: req.ip,
      requestId: req.requestId ?? null,
      details: { account: false },
    });
    return;
  }
  const link = await issueLink(deps, config.issuer, {
    purpose: 'reset_password',
    userId: user.id,
    email: user.email,
    ttlSeconds: config.EMAIL_TOKEN_TTL,
  });
  try {
    await deps.mailer.send(mails.resetPassword(user.email, link.url, config.EMAIL_TOKEN_TTL));
  } catch (err) {
    // Nothing half-done: the link no one received is gone.
    await deps.emailTokens.remove(link.tokenHash);
    throw err;
  }
  await deps.audit.record({
    type: 'password_reset.requested',
    userId: user.id,
    ip: req.ip,
    requestId: req.requestId ?? null,
    details: { account: true },
  });
}

/** The reset link's token, if it can still be used (the page shows the form only then). */
export async function usableResetLink(
  deps: Pick<ResetDeps, 'emailTokens' | 'clock'>,
  token: string | undefined,
): Promise<EmailTokenRecord | null> {
  const hash = linkTokenHash(token);
  return hash ? deps.emailTokens.findUsable(hash, 'reset_password', deps.clock.now()) : null;
}

/** Sets the new password through a reset link; rejects with LinkInvalid or PasswordRefused. */
export async function resetPassword(
  deps: ResetDeps,
  token: string | undefined,
  password: string,
  req: RequestContext,
): Promise<{ email: string }> {
  await countSelfServiceRequest(deps.logins, 'reset', deps.clock.now(), req.ip);
  const hash = linkTokenHash(token);
  const link = hash
    ? await deps.emailTokens.findUsable(hash, 'reset_password', deps.clock.now())
    : null;
  if (!hash || !link?.userId) throw new LinkInvalid('reset link unknown, used or expired');
  const user = await deps.users.findById(link.userId);
  if (!user) throw new LinkInvalid('account gone');
  const problem = passwordProblem(password, [user.email, user.name ?? '']);
  if (problem) throw new PasswordRefused(problem);
  const passwordHash = await deps.passwords.hash(password);
  // Used exactly once: of two requests with the same link, one wins here.
  if (!(await deps.emailTokens.consume(hash, 'reset_password', deps.clock.now())))
    throw new LinkInvalid('reset link used meanwhile');
  const now = deps.clock.now();
  await deps.users.setPasswordHash(user.id, passwordHash, now);
  await deps.emailTokens.consumeAllForUser(user.id, 'reset_password', now);
  // Following the link proved the address is the user's.
  await deps.users.markEmailVerified(user.id, now);
  const families = await endAllSessions(
    user.id,
    null,
    deps,
    { ip: req.ip, requestId: req.requestId ?? null },
    'password_reset',
  );
  const browserSessions = await deps.browserSessions.endAllForUser(user.id, now);
  await deps.audit.record({
    type: 'password_reset.completed',
    userId: user.id,
    ip: req.ip,
    requestId: req.requestId ?? null,
    details: { families, browser_sessions: browserSessions },
  });
  try {
    await deps.mailer.send(
      mails.passwordChanged(user.email, `${deps.config.issuer}/forgot-password`),
    );
  } catch (err) {
    // The password is changed and the sessions ended; only the notice is missing.
    if (!(err instanceof MailNotSent)) throw err;
    deps.log.warn({ userId: user.id }, 'password-changed notice not sent');
  }
  return { email: user.email };
}
