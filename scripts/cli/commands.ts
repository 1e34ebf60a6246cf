/**
 * The CLI's command table: `tessera <group> <sub> [options] [--json]`.
 *
 * To add a command group, write `scripts/cli/<group>.ts` exporting a `CommandGroup`
 * (`{ sub: Command }`, see ./types.ts and ./users.ts for an example) and add ONE line below:
 *
 *     keys: keysCommands,
 *
 * To add a sub-command to an existing group from your own file, spread it in:
 *
 *     users: { ...usersCommands, ...userSessionCommands },
 *
 * Every command gets `--json` and `--help` for free; its handler returns `{ json, text }` and
 * throws `UsageError` (exit 2) for bad arguments or `AdminError` (exit 1) for refused actions.
 */
import { auditCommands } from './audit';
import { clientsCommands } from './clients';
import { keysCommands } from './keys';
import { registrationCommands } from './registration';
import { tokenCommands } from './token-inspect';
import type { CommandGroup } from './types';
import { userSessionCommands } from './sessions';
import { usersCommands } from './users';

export const commandGroups: Record<string, CommandGroup> = {
  users: { ...usersCommands, ...userSessionCommands },
  clients: clientsCommands,
  keys: keysCommands,
  token: tokenCommands,
  audit: auditCommands,
  registration: registrationCommands,
};
