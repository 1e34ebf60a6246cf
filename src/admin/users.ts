/** User administration shared by the CLI and the demo seed: validated, hashed, audited. */
import { z } from 'zod';
import type { Services } from '../services';
import type { UserRecord } from '../accounts/user-storage';
import { endAllSessions } from '../oauth/revocation';

export const newUserInput = z.object({
  email: z.email().max(254),
  password: z.string().min(8, 'password must be at least 8 characters').max(1024),
  name: z.string().min(1).max(200).optional(),
  roles: z
    .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -'))
    .max(50)
    .default([]),
});

export type NewUserInput = z.input<typeof newUserInput>;

export class AdminError extends Error {
  override name = 'AdminError';
}

export async function createUser(
  services: Pick<Services, 'users' | 'passwords' | 'audit'>,
  input: NewUserInput,
): Promise<UserRecord> {
  const parsed = newUserInput.safeParse(input);
  if (!parsed.success)
    throw new AdminError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  const { email, password, name, roles } = parsed.data;
  if (await services.users.findByEmail(email))
    throw new AdminError(`a user with email ${email} already exists`);
  const user = await services.users.create({
    email,
    passwordHash: await services.passwords.hash(password),
    name: name ?? null,
    roles,
  });
  await services.audit.record({
    type: 'user.created',
    userId: user.id,
    details: { email: user.email },
  });
  return user;
}

/**
 * Disables or enables an account. Disabling also ends every session of the user for good:
 * each refresh-token family with every client and the access tokens issued with them (the
 * same path as `users revoke-sessions` and POST /logout), and every browser (SSO) session. A
 * disabled user's tokens already fail while disabled; ending them makes sure enabling the
 * account later brings none of them back — the user signs in afresh. The account is marked
 * disabled first, so no login can start a session after the sessions were ended.
 */
export async function setUserDisabled(
  services: Pick<
    Services,
    'users' | 'audit' | 'clock' | 'refreshTokens' | 'browserSessions' | 'backchannelLogout'
  >,
  email: string,
  disabled: boolean,
): Promise<UserRecord> {
  const user = await services.users.findByEmail(email);
  if (!user) throw new AdminError(`no user with email ${email}`);
  await services.users.setDisabled(user.id, disabled, services.clock.now());
  if (!disabled) {
    await services.audit.record({ type: 'user.enabled', userId: user.id });
    return { ...user, disabled };
  }
  const families = await endAllSessions(user.id, null, services, {}, 'user_disabled');
  const browserSessions = await services.browserSessions.endAllForUser(
    user.id,
    services.clock.now(),
  );
  await services.audit.record({
    type: 'user.disabled',
    userId: user.id,
    details: { families, browser_sessions: browserSessions },
  });
  return { ...user, disabled };
}
