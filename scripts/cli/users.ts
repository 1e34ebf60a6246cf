/** `tessera users ...`: create, list, invite, disable and enable accounts (through src/admin/users.ts). */
import { z } from 'zod';
import { createUser, newUserInput, setUserDisabled } from '../../src/admin/users';
import { createInvitation } from '../../src/accounts/signup';
import type { UserRecord } from '../../src/accounts/user-storage';
import { iso, keyValues, table } from './output';
import { UsageError, type Command, type CommandGroup } from './types';
import { parseFlags } from './validation';

/** A user as the CLI shows it: never the password hash. */
export function userJson(u: UserRecord) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    roles: u.roles,
    disabled: u.disabled,
    email_verified: u.emailVerified,
    created_at: iso(u.createdAt),
  };
}

const create: Command = {
  usage: '--email E (--password P | --password-stdin) [--name N] [--role R]...',
  summary:
    'create a user (the password is hashed with argon2id; --password-stdin keeps it out of ps and shell history)',
  options: {
    email: { kind: 'string', value: 'E', required: true },
    password: { kind: 'string', value: 'P' },
    'password-stdin': { kind: 'boolean' },
    name: { kind: 'string', value: 'N' },
    role: { kind: 'strings', value: 'R' },
  },
  async run(args, ctx) {
    const inline = args.string('password');
    const fromStdin = args.flag('password-stdin');
    if ((inline === undefined) === !fromStdin)
      throw new UsageError('give exactly one of --password P or --password-stdin');
    // One trailing newline (from `echo` or a file) is not part of the password.
    const password = inline ?? (await ctx.readStdin()).replace(/\r?\n$/, '');
    const input = {
      email: args.string('email')!,
      password,
      name: args.string('name'),
      roles: args.strings('role'),
    };
    const flags = {
      email: 'email',
      password: fromStdin ? 'password-stdin' : 'password',
      name: 'name',
      roles: 'role',
    };
    parseFlags(newUserInput, input, { flags, secret: ['password'] });
    const user = await createUser(await ctx.services(), input);
    return {
      json: userJson(user),
      text: `created user ${user.email}\n${keyValues([
        ['id', user.id],
        ['roles', user.roles],
      ])}`,
    };
  },
};

const list: Command = {
  summary: 'list users',
  options: {},
  async run(_args, ctx) {
    const users = await (await ctx.services()).users.list();
    return {
      json: users.map(userJson),
      text: table(
        ['id', 'email', 'name', 'roles', 'disabled', 'created_at'],
        users.map((u) => [u.id, u.email, u.name, u.roles, u.disabled, u.createdAt]),
      ),
    };
  },
};

function setDisabled(disabled: boolean): Command {
  return {
    summary: disabled ? 'disable a user (they can no longer log in)' : 'enable a disabled user',
    options: { email: { kind: 'string', value: 'E', required: true } },
    async run(args, ctx) {
      const user = await setUserDisabled(await ctx.services(), args.string('email')!, disabled);
      return {
        json: userJson(user),
        text: `${disabled ? 'disabled' : 'enabled'} user ${user.email}`,
      };
    },
  };
}

const invite: Command = {
  usage: '--email E',
  summary:
    'invite E to sign up (SIGNUP=invite): prints the single-use sign-up link once (only its hash is kept)',
  options: { email: { kind: 'string', value: 'E', required: true } },
  async run(args, ctx) {
    const email = args.string('email')!;
    parseFlags(z.object({ email: z.email().max(254) }), { email }, { flags: { email: 'email' } });
    const services = await ctx.services();
    const invitation = await createInvitation(services, email);
    const note =
      services.config.SIGNUP === 'invite'
        ? ''
        : `\nnote: SIGNUP is ${services.config.SIGNUP}; the link works once SIGNUP=invite`;
    return {
      json: {
        email: email.trim().toLowerCase(),
        url: invitation.url,
        expires_at: iso(invitation.expiresAt),
      },
      text: `invitation for ${email}\n${keyValues([
        ['url', invitation.url],
        ['expires_at', invitation.expiresAt],
      ])}${note}`,
    };
  },
};

export const usersCommands: CommandGroup = {
  create,
  list,
  invite,
  disable: setDisabled(true),
  enable: setDisabled(false),
};
