/**
 * `tessera clients ...`: create, update, show, list and rotate secrets (through
 * src/admin/clients.ts). A registration is an RFC 7591 client-metadata document: `--metadata
 * FILE` takes one whole, the flags of `create` fill in the same document, and `--json` prints
 * one. A client's secret is printed exactly once, when it is issued; only its hash (and, for
 * client_secret_jwt, its ciphertext) is stored, and nothing shows it again. A private_key_jwt
 * client has no secret: it authenticates with the keys its document registers.
 */
import { readFileSync } from 'node:fs';
import {
  createClient,
  createClientFromMetadata,
  deleteClient,
  metadataFieldLabel,
  metadataFromInput,
  rotateClientSecret,
  setClientDisabled,
  updateClient,
  type NewClientInput,
} from '../../src/admin/clients';
import { AdminError } from '../../src/admin/users';
import { describeIssues } from '../../src/admin/issues';
import {
  authMethodOf,
  clientMetadataSchema,
  metadataOfClient,
  RESPONSE_ONLY_FIELDS,
} from '../../src/clients/client-metadata';
import type { ClientRecord, GrantType } from '../../src/clients/client-storage';
import { keyValues, table } from './output';
import { UsageError, type Command, type CommandGroup, type ParsedArgs } from './types';
import { parseFlags } from './validation';

/** Which flag of `create` sets which metadata field, for error messages. */
const METADATA_FLAGS: Record<string, string> = {
  client_name: 'name',
  token_endpoint_auth_method: 'public',
  first_party: 'first-party',
  redirect_uris: 'redirect-uri',
  post_logout_redirect_uris: 'post-logout-redirect-uri',
  grant_types: 'grant',
  scope: 'scope',
  audiences: 'audience',
  id_token_signed_response_alg: 'alg',
  access_token_ttl: 'access-token-ttl',
  id_token_ttl: 'id-token-ttl',
  refresh_token_ttl: 'refresh-token-ttl',
  refresh_token_idle_ttl: 'refresh-token-idle-ttl',
};

/** The lifetime flags of `create`, each a whole number of seconds. */
const TTL_FLAGS = [
  'access-token-ttl',
  'id-token-ttl',
  'refresh-token-ttl',
  'refresh-token-idle-ttl',
] as const;

function seconds(args: ParsedArgs, flag: string): number | null {
  const value = args.string(flag);
  if (value === undefined) return null;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${flag} must be a whole number of seconds`);
  return Number(value);
}

/** A registration as the CLI prints it: the metadata document, and the secret when just issued. */
function registration(c: ClientRecord, secret: string | null = null) {
  return {
    ...metadataOfClient(c),
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
  };
}

/**
 * `--metadata FILE` (`-` for standard input) read and checked against the schema before the
 * database is opened: an unreadable file, bad JSON or a bad field is a bad argument.
 */
async function metadataArg(
  args: ParsedArgs,
  readStdin: () => Promise<string>,
  passThrough: readonly string[] = [],
): Promise<Record<string, unknown>> {
  const file = args.string('metadata')!;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--metadata ${file}: cannot read it (${(err as Error).message})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--metadata ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new UsageError(`--metadata ${file}: must hold one JSON object`);
  // `passThrough`: fields the admin code judges itself (an update's client_id, client_secret).
  const fields = Object.fromEntries(
    Object.entries(document).filter(([name]) => !passThrough.includes(name)),
  );
  const parsed = clientMetadataSchema.safeParse(fields);
  if (!parsed.success) {
    throw new UsageError(
      `--metadata ${file}: ${describeIssues(parsed.error.issues, fields, metadataFieldLabel)}`,
    );
  }
  return document as Record<string, unknown>;
}

function created(client: ClientRecord, secret: string | null, verb: string) {
  const pairs: [string, string | string[] | null][] = [['client_id', client.id]];
  if (secret) pairs.push(['client_secret', secret]);
  pairs.push(
    ['token_endpoint_auth_method', authMethodOf(client)],
    ['grant_types', client.grantTypes],
    ['scope', client.scopes.join(' ')],
  );
  const note = secret
    ? '\n\nStore the client_secret now: it is not shown again (only its hash is kept).'
    : '';
  return {
    json: registration(client, secret),
    text: `${verb} ${client.isPublic ? 'public' : 'confidential'} client ${client.name}\n${keyValues(pairs)}${note}`,
  };
}

const FLAG_SETTINGS = [
  'name',
  'public',
  'first-party',
  'redirect-uri',
  'post-logout-redirect-uri',
  'grant',
  'scope',
  'audience',
  'alg',
  ...TTL_FLAGS,
] as const;

const create: Command = {
  summary:
    'register a client from flags or an RFC 7591 metadata file; prints client_id and, for a client with a secret, client_secret (shown only this once)',
  usage:
    '(--metadata FILE | --name N [--public] [--first-party] [--redirect-uri U]... [--post-logout-redirect-uri U]... [--grant G]... [--scope "S"] [--audience A]... [--alg RS256|ES256] [--access-token-ttl S] [--id-token-ttl S] [--refresh-token-ttl S] [--refresh-token-idle-ttl S])',
  options: {
    metadata: { kind: 'string', value: 'FILE' },
    name: { kind: 'string', value: 'N' },
    public: { kind: 'boolean' },
    'first-party': { kind: 'boolean' },
    'redirect-uri': { kind: 'strings', value: 'U' },
    'post-logout-redirect-uri': { kind: 'strings', value: 'U' },
    grant: { kind: 'strings', value: 'G' },
    scope: { kind: 'string', value: '"S"' },
    audience: { kind: 'strings', value: 'A' },
    alg: { kind: 'string', value: 'RS256|ES256' },
    ...Object.fromEntries(TTL_FLAGS.map((f) => [f, { kind: 'string', value: 'S' } as const])),
  },
  async run(args, ctx) {
    const given = FLAG_SETTINGS.filter((f) =>
      f === 'public' || f === 'first-party'
        ? args.flag(f)
        : args.string(f) !== undefined || args.strings(f).length > 0,
    );
    if (args.string('metadata') !== undefined) {
      if (given.length)
        throw new UsageError(
          `--metadata holds the whole registration: put --${given[0]} in the file instead`,
        );
      const document = await metadataArg(args, () => ctx.readStdin());
      const { client, secret } = await createClientFromMetadata(await ctx.services(), document);
      return created(client, secret, 'created');
    }
    const name = args.string('name');
    if (name === undefined) throw new UsageError('give --name N (or --metadata FILE)');
    const alg = args.string('alg');
    if (alg !== undefined && alg !== 'RS256' && alg !== 'ES256')
      throw new UsageError('--alg must be RS256 or ES256');
    const scope = args.string('scope');
    const grants = args.strings('grant');
    const input: NewClientInput = {
      name,
      isPublic: args.flag('public'),
      firstParty: args.flag('first-party'),
      redirectUris: args.strings('redirect-uri'),
      postLogoutRedirectUris: args.strings('post-logout-redirect-uri'),
      audiences: args.strings('audience'),
      signingAlg: alg ?? null,
      accessTokenTtl: seconds(args, 'access-token-ttl'),
      idTokenTtl: seconds(args, 'id-token-ttl'),
      refreshTokenTtl: seconds(args, 'refresh-token-ttl'),
      refreshTokenIdleTtl: seconds(args, 'refresh-token-idle-ttl'),
      ...(grants.length ? { grantTypes: grants as GrantType[] } : {}),
      ...(scope !== undefined ? { scopes: scope.split(' ').filter(Boolean) } : {}),
    };
    // Bad values are bad arguments: refused with the flag's name before the database is opened.
    parseFlags(clientMetadataSchema, metadataFromInput(input), { flags: METADATA_FLAGS });
    const { client, secret } = await createClient(await ctx.services(), input);
    return created(client, secret, 'created');
  },
};

const update: Command = {
  summary:
    "replace a client's registration with an RFC 7591 metadata file (omitted fields take their defaults); a client made confidential gets a secret, shown once",
  options: {
    'client-id': { kind: 'string', value: 'ID', required: true },
    metadata: { kind: 'string', value: 'FILE', required: true },
  },
  async run(args, ctx) {
    const document = await metadataArg(args, () => ctx.readStdin(), [
      ...RESPONSE_ONLY_FIELDS,
      'client_secret',
    ]);
    const clientId = args.string('client-id')!;
    const { client, secret } = await updateClient(await ctx.services(), clientId, document);
    return created(client, secret, 'updated');
  },
};

const show: Command = {
  summary: "print a client's registration as an RFC 7591 metadata document (never its secret)",
  options: { 'client-id': { kind: 'string', value: 'ID', required: true } },
  async run(args, ctx) {
    const clientId = args.string('client-id')!;
    const client = await (await ctx.services()).clients.findById(clientId);
    if (!client) throw new AdminError(`no client ${clientId}`);
    const json = registration(client);
    return { json, text: JSON.stringify(json, null, 2) };
  },
};

const list: Command = {
  summary: 'list clients (secrets are never shown)',
  options: {},
  async run(_args, ctx) {
    const clients = await (await ctx.services()).clients.list();
    return {
      json: clients.map((c) => ({ ...registration(c), disabled: c.disabled })),
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

const clientIdOption = { 'client-id': { kind: 'string', value: 'ID', required: true } } as const;

function setDisabled(disabled: boolean): Command {
  return {
    summary: disabled
      ? 'disable a client: it can no longer authenticate or sign anyone in'
      : 'enable a disabled client again',
    options: clientIdOption,
    async run(args, ctx) {
      const id = args.string('client-id')!;
      await setClientDisabled(await ctx.services(), id, disabled);
      return {
        json: { client_id: id, disabled },
        text: `${disabled ? 'disabled' : 'enabled'} client ${id}`,
      };
    },
  };
}

const remove: Command = {
  summary: 'delete a client and everything issued to it (refresh tokens, codes, consents)',
  usage: '--client-id ID --yes',
  options: { ...clientIdOption, yes: { kind: 'boolean', help: 'confirm: this cannot be undone' } },
  async run(args, ctx) {
    const id = args.string('client-id')!;
    if (!args.flag('yes'))
      throw new UsageError(
        'deleting a client cannot be undone: add --yes (or use clients disable)',
      );
    await deleteClient(await ctx.services(), id, 'cli');
    return { json: { client_id: id, deleted: true }, text: `deleted client ${id}` };
  },
};

export const clientsCommands: CommandGroup = {
  create,
  update,
  show,
  list,
  'rotate-secret': rotateSecret,
  disable: setDisabled(true),
  enable: setDisabled(false),
  delete: remove,
};
