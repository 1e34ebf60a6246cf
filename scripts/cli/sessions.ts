/**
 * `tessera users revoke-sessions --email E`: ends every session of a user — each refresh-token
 * family with every client, and the access tokens issued with them (denied by jti until they
 * expire). The same operation as POST /logout and `logout_all` (src/oauth/revocation.ts); an
 * audit event `user.sessions_revoked` with reason `operator` records it.
 *
 * The account stays usable: to keep someone out, `users disable` as well.
 */
import { AdminError } from '../../src/admin/users';
import { endAllSessions } from '../../src/oauth/revocation';
import type { Command, CommandGroup } from './types';

const revokeSessions: Command = {
  summary:
    'end all sessions of a user: revoke every refresh-token family (all clients) and the access tokens issued with them',
  options: { email: { kind: 'string', value: 'E', required: true } },
  async run(args, ctx) {
    const services = await ctx.services();
    const email = args.string('email')!;
    const user = await services.users.findByEmail(email);
    if (!user) throw new AdminError(`no user with email ${email}`);
    const ended = await endAllSessions(user.id, null, services, {}, 'operator');
    return {
      json: { user_id: user.id, email: user.email, sessions_ended: ended },
      text: `ended ${ended} session${ended === 1 ? '' : 's'} of ${user.email}`,
    };
  },
};

/** Spread into the `users` group: `users: { ...usersCommands, ...userSessionCommands }`. */
export const userSessionCommands: CommandGroup = {
  'revoke-sessions': revokeSessions,
};
