/**
 * Self-service sign-up (SIGNUP=open, or invite with an operator's invitation), email
 * verification and invitations.
 *
 * - The answer does not say whether the address already has an account: both cases hash the
 *   password, count against the same limits and send one mail (the verification link, or "you
 *   already have an account"), and end on the same "check your email" page.
 * - The new account cannot sign in until its address is verified (verifyBeforeSignIn).
 * - A mail that cannot be sent leaves nothing behind: the account (and its link) are deleted
 *   and the invitation, used only after the mail went out, stays usable.
 */
import type { Services } from '../services';
import { mails } from '../mail/templates';
import { issueLink, linkTokenHash } from './email-links';
import type { Continuation, EmailTokenRecord } from './email-token-storage';
import { passwordProblem } from './password-policy';
import { LinkInvalid, PasswordRefused, type RequestContext } from './password-reset';
import { countSelfServiceRequest } from './self-service-limits';

export type SignUpDeps = Pick<
  Services,
  'config' | 'users' | 'emailTokens' | 'passwords' | 'mailer' | 'audit' | 'clock' | 'logins'
>;

export interface SignUpInput {
  email: string;
  password: string;
  name: string;
  /** SIGNUP=invite: the invitation link's token. */
  invitation?: string | undefined;
  /** prompt=create: the sign-in to continue after verification. */
  continuation?: Continuation | null | undefined;
}

/** The invitation's email, if the token is a usable invitation. */
export async function usableInvitation(
  deps: Pick<SignUpDeps, 'emailTokens' | 'clock'>,
  token: string | undefined,
): Promise<EmailTokenRecord | null> {
  const hash = linkTokenHash(token);
  return hash ? deps.emailTokens.findUsable(hash, 'invitation', deps.clock.now()) : null;
}

/** Signs up; resolves once the mail went out. Rejects with PasswordRefused, LinkInvalid, MailNotSent or SelfServiceThrottled. */
export async function signUp(
  deps: SignUpDeps,
  input: SignUpInput,
  req: RequestContext,
): Promise<void> {
  const { config } = deps;
  let email = input.email.trim().toLowerCase();
  let invitation: EmailTokenRecord | null = null;
  if (config.SIGNUP === 'invite') {
    invitation = await usableInvitation(deps, input.invitation);
    if (!invitation) throw new LinkInvalid('invitation unknown, used or expired');
    email = invitation.email; // only the invited address may sign up with it
  }
  await countSelfServiceRequest(deps.logins, 'signup', deps.clock.now(), req.ip, email);
  const problem = passwordProblem(input.password, [email, input.name]);
  if (problem) throw new PasswordRefused(problem);
  // Hashed in both cases, so an existing address answers no faster.
  const passwordHash = await deps.passwords.hash(input.password);
  const existing = await deps.users.findByEmail(email);
  if (existing) return alreadyRegistered(deps, email, req, existing.id);
  // A concurrent sign-up of the same address loses on the unique email: it is then an existing one.
  const user = await deps.users
    .create({
      email,
      passwordHash,
      name: input.name,
      emailVerified: false,
      verifyBeforeSignIn: true,
    })
    .catch(async (err: unknown) => {
      if (await deps.users.findByEmail(email)) return null;
      throw err;
    });
  if (!user) return alreadyRegistered(deps, email, req);
  try {
    await sendVerification(deps, user.id, email, input.continuation ?? null);
    if (
      invitation &&
      !(await deps.emailTokens.consume(invitation.tokenHash, 'invitation', deps.clock.now()))
    )
      throw new LinkInvalid('invitation used meanwhile');
  } catch (err) {
    await deps.users.remove(user.id); // its links go with it (ON DELETE CASCADE)
    throw err;
  }
  await deps.audit.record({
    type: 'user.signed_up',
    userId: user.id,
    ip: req.ip,
    requestId: req.requestId ?? null,
    details: { via: invitation ? 'invitation' : 'open' },
  });
}

/** The answer to a sign-up with an address that has an account: a mail to its owner. */
async function alreadyRegistered(
  deps: SignUpDeps,
  email: string,
  req: RequestContext,
  userId: string | null = null,
): Promise<void> {
  const { issuer } = deps.config;
  await deps.mailer.send(mails.alreadyRegistered(email, issuer, `${issuer}/forgot-password`));
  await deps.audit.record({
    type: 'signup.existing_email',
    userId,
    ip: req.ip,
    requestId: req.requestId ?? null,
  });
}

/** Stores a verification link and mails it; the link is deleted again when the mail fails. */
async function sendVerification(
  deps: SignUpDeps,
  userId: string,
  email: string,
  continuation: Continuation | null,
): Promise<void> {
  const link = await issueLink(deps, deps.config.issuer, {
    purpose: 'verify_email',
    userId,
    email,
    ttlSeconds: deps.config.EMAIL_TOKEN_TTL,
    continuation,
  });
  try {
    await deps.mailer.send(mails.verifyEmail(email, link.url, deps.config.EMAIL_TOKEN_TTL));
  } catch (err) {
    await deps.emailTokens.remove(link.tokenHash);
    throw err;
  }
}

/**
 * Sends a new verification link to an unverified account; an unknown or already verified
 * address gets the mail it would get from sign-up, so the answer is the same for every address.
 */
export async function resendVerification(
  deps: SignUpDeps,
  email: string,
  req: RequestContext,
): Promise<void> {
  const { config } = deps;
  await countSelfServiceRequest(deps.logins, 'resend', deps.clock.now(), req.ip, email);
  const user = await deps.users.findByEmail(email);
  if (!user) {
    await deps.mailer.send(
      mails.noAccount(email, config.SIGNUP === 'open' ? `${config.issuer}/signup` : null),
    );
    return;
  }
  if (user.emailVerified) {
    await deps.mailer.send(
      mails.alreadyRegistered(user.email, config.issuer, `${config.issuer}/forgot-password`),
    );
    return;
  }
  await sendVerification(deps, user.id, user.email, null);
}

/** Uses a verification link: the address is verified, the account may sign in. */
export async function verifyEmail(
  deps: Pick<SignUpDeps, 'emailTokens' | 'users' | 'audit' | 'clock'>,
  token: string | undefined,
  req: RequestContext,
): Promise<{ email: string; continuation: Continuation | null }> {
  const hash = linkTokenHash(token);
  const now = deps.clock.now();
  const link = hash ? await deps.emailTokens.consume(hash, 'verify_email', now) : null;
  if (!link?.userId) throw new LinkInvalid('verification link unknown, used or expired');
  await deps.users.markEmailVerified(link.userId, now);
  await deps.audit.record({
    type: 'user.email_verified',
    userId: link.userId,
    ip: req.ip,
    requestId: req.requestId ?? null,
  });
  return { email: link.email, continuation: link.continuation };
}

/**
 * An operator's invitation (SIGNUP=invite): a single-use sign-up link for one address, valid
 * INVITATION_TTL. The link is returned once; only its hash is stored.
 */
export async function createInvitation(
  deps: Pick<Services, 'config' | 'emailTokens' | 'clock' | 'audit'>,
  email: string,
): Promise<{ url: string; expiresAt: Date }> {
  const normalized = email.trim().toLowerCase();
  const link = await issueLink(deps, deps.config.issuer, {
    purpose: 'invitation',
    userId: null,
    email: normalized,
    ttlSeconds: deps.config.INVITATION_TTL,
  });
  await deps.audit.record({ type: 'user.invited', details: { email: normalized } });
  return {
    url: link.url,
    expiresAt: new Date(deps.clock.now().getTime() + deps.config.INVITATION_TTL * 1000),
  };
}
