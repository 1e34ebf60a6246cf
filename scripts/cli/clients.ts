/**
 * `tessera clients ...`: create, list and rotate secrets (through src/admin/clients.ts). A
 * confidential client's secret is printed exactly once, at creation or rotation; only its hash
 * is stored, and no listing shows it.
 */
import {
  createClient,
  newClientInput,
  rotateClientSecret,
  type NewClientInput,
} from '../../src/admin/clients';
import type { ClientRecord } from '../../src/clients/client-storage';
import { iso, keyValues, table } from './output';
import { UsageError, type Command, type CommandGroup } from './types';
import { parseFlags } from './validation';

/** Which flag sets which field of NewClientInput, for error messages. */
const CLIENT_FLAGS: Record<string, string> = {
  name: 'name',
  isPublic: 'public',
  firstParty: 'first-party',
  redirectUris: 'redirect-uri',
  postLogoutRedirectUris: 'post-logout-redirect-uri',
  grantTypes: 'grant',
  scopes: 'scope',
  audiences: 'audience',
  signingAlg: 'alg',
};

/** A client as the CLI shows it: never the secret hash. */
export function clientJson(c: ClientRecord) {
  return {
    client_id: c.id,
    name: c.name,
    type: c.isPublic ? 'public' : 'confidential',
    first_party: c.firstParty,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    grant_types: c.grantTypes,
    scopes: c.scopes,
    audiences: c.audiences,
    signing_alg: c.signingAlg,
    disabled: c.disabled,
    created_at: iso(c.createdAt),
  };
}

const create: Command = {
  summary:
    'register a client; prints client_id and, for a confidential client, client_secret (shown only this once)',
  options: {
    name: { kind: 'string', value: 'N', required: true },
    public: { kind: 'boolean' },
    'first-party': { kind: 'boolean' },
    'redirect-uri': { kind: 'strings', value: 'U' },
    'post-logout-redirect-uri': { kind: 'strings', value: 'U' },
    grant: { kind: 'strings', value: 'G' },
    scope: { kind: 'string', value: '"S"' },
    audience: { kind: 'strings', value: 'A' },
    alg: { kind: 'string', value: 'RS256|ES256' },
  },
  async run(args, ctx) {
    const alg = args.string('alg');
    if (alg !== undefined && alg !== 'RS256' && alg !== 'ES256')
      throw new UsageError('--alg must be RS256 or ES256');
    const scope = args.string('scope');
    const grants = args.strings('grant');
    const input: NewClientInput = {
      name: args.string('name')!,
      isPublic: args.flag('public'),
      firstParty: args.flag('first-party'),
      redirectUris: args.strings('redirect-uri'),
      postLogoutRedirectUris: args.strings('post-logout-redirect-uri'),
      audiences: args.strings('audience'),
      signingAlg: alg ?? null,
      ...(grants.length ? { grantTypes: grants as NewClientInput['grantTypes'] } : {}),
      ...(scope !== undefined ? { scopes: scope.split(' ').filter(Boolean) } : {}),
    };
    // Bad values are bad arguments: refused with the flag's name before the database is opened.
    parseFlags(newClientInput, input, { flags: CLIENT_FLAGS });
    const { client, secret } = await createClient(await ctx.services(), input);
    const pairs: [string, string | string[] | null][] = [['client_id', client.id]];
    if (secret) pairs.push(['client_secret', secret]);
    pairs.push(['grant_types', client.grantTypes], ['scopes', client.scopes]);
    const note = secret
      ? '\n\nStore the client_secret now: it is not shown again (only its hash is kept).'
      : '';
    return {
      json: { ...clientJson(client), client_secret: secret },
      text: `created ${secret ? 'confidential' : 'public'} client ${client.name}\n${keyValues(pairs)}${note}`,
    };
  },
};

const list: Command = {
  summary: 'list clients (secrets are never shown)',
  options: {},
  async run(_args, ctx) {
    const clients = await (await ctx.services()).clients.list();
    return {
      json: clients.map(clientJson),
      text: table(
        ['client_id', 'name', 'type', 'first_party', 'grant_types', 'disabled'],
        clients.map((c) => [
          c.id,
          c.name,
          c.isPublic ? 'public' : 'confidential',
          c.firstParty,
          c.grantTypes,
          c.disabled,
        ]),
      ),
    };
  },
};

const rotateSecret: Command = {
  summary: "replace a confidential client's secret; the old one stops working at once",
  options: { 'client-id': { kind: 'string', value: 'ID', required: true } },
  async run(args, ctx) {
    const clientId = args.string('client-id')!;
    const secret = await rotateClientSecret(await ctx.services(), clientId);
    return {
      json: { client_id: clientId, client_secret: secret },
      text: `${keyValues([
        ['client_id', clientId],
        ['client_secret', secret],
      ])}\n\nStore the client_secret now: it is not shown again.`,
    };
  },
};

export const clientsCommands: CommandGroup = {
  create,
  list,
  'rotate-secret': rotateSecret,
};
