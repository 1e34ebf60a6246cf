/**
 * `tessera registration create-token [--max-uses N] [--expires-in S] [--grant G]… [--scope S]…
 * [--audience A]… [--redirect-uri-prefix P]… [--json]`: an initial access token for dynamic
 * client registration (REGISTRATION=initial-token), printed once (only its hash is stored).
 */
import { createInitialAccessToken } from '../../src/admin/registration';
import type { GrantType } from '../../src/clients/client-storage';
import { iso } from './output';
import { UsageError, type Command, type CommandGroup } from './types';

function wholeNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
  return Number(value);
}

const createToken: Command = {
  summary: 'issue an initial access token for POST /register (shown once)',
  options: {
    'max-uses': { kind: 'string', value: 'N', help: 'registrations it allows (default: any)' },
    'expires-in': { kind: 'string', value: 'S', help: 'seconds it lives (default: no expiry)' },
    grant: { kind: 'strings', value: 'G', help: 'grant types registrations may use' },
    scope: { kind: 'strings', value: 'S', help: 'scopes registrations may ask for' },
    audience: { kind: 'strings', value: 'A', help: 'APIs (RFC 8707) registrations may name' },
    'redirect-uri-prefix': {
      kind: 'strings',
      value: 'P',
      help: 'every redirect URI must start with one of these',
    },
  },
  async run(args, ctx) {
    const services = await ctx.services();
    const maxUses = wholeNumber(args.string('max-uses'), 'max-uses');
    const expiresInSeconds = wholeNumber(args.string('expires-in'), 'expires-in');
    const policy = {
      ...(args.strings('grant').length
        ? { grant_types: args.strings('grant') as GrantType[] }
        : {}),
      ...(args.strings('scope').length ? { scopes: args.strings('scope') } : {}),
      ...(args.strings('audience').length ? { audiences: args.strings('audience') } : {}),
      ...(args.strings('redirect-uri-prefix').length
        ? { redirect_uri_prefixes: args.strings('redirect-uri-prefix') }
        : {}),
    };
    const issued = await createInitialAccessToken(services, {
      ...(maxUses === undefined ? {} : { maxUses }),
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
      policy,
    });
    return {
      json: {
        initial_access_token: issued.token,
        max_uses: issued.maxUses,
        expires_at: issued.expiresAt ? iso(issued.expiresAt) : null,
        policy: issued.policy,
      },
      text: [
        `initial access token (shown once): ${issued.token}`,
        `uses: ${issued.maxUses ?? 'unlimited'}; expires: ${issued.expiresAt ? iso(issued.expiresAt) : 'never'}`,
        `register with: curl -H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' -d @client.json ${services.config.issuer}/register`,
      ].join('\n'),
    };
  },
};

export const registrationCommands: CommandGroup = { 'create-token': createToken };
