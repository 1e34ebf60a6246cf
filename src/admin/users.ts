/** User administration shared by the CLI and the demo seed: validated, hashed, audited. */
import { z } from 'zod';
import type { Services } from '../services';
import type { UserRecord } from '../persistence/types';

export const newUserInput = z.object({
  email: z.email().max(254),
  password: z.string().min(8, 'password must be at least 8 characters').max(1024),
  name: z.string().min(1).max(200).optional(),
  roles: z.array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -')).max(50).default([]),
});

export type NewUserInput = z.input<typeof newUserInput>;

export class AdminError extends Error {
  override name = 'AdminError';
}

export async function createUser(services: Pick<Services, 'users' | 'passwords' | 'audit'>, input: NewUserInput): Promise<UserRecord> {
  const parsed = newUserInput.safeParse(input);
  if (!parsed.success) throw new AdminError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const { email, password, name, roles } = parsed.data;
  if (await services.users.findByEmail(email)) throw new AdminError(`a user with email ${email} already exists`);
  const user = await services.users.create({ email, passwordHash: await services.passwords.hash(password), name: name ?? null, roles });
  await services.audit.record({ type: 'user.created', userId: user.id, details: { email: user.email } });
  return user;
}

export async function setUserDisabled(services: Pick<Services, 'users' | 'audit' | 'clock'>, email: string, disabled: boolean): Promise<UserRecord> {
  const user = await services.users.findByEmail(email);
  if (!user) throw new AdminError(`no user with email ${email}`);
  await services.users.setDisabled(user.id, disabled, services.clock.now());
  await services.audit.record({ type: disabled ? 'user.disabled' : 'user.enabled', userId: user.id });
  return { ...user, disabled };
}
