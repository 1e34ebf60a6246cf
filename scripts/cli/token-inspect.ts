/**
 * `tessera token inspect <jwt|-> [--issuer URL] [--audience A] [--jwks FILE|URL]
 *  [--client-id ID --client-secret S] [--json]` — what jwt.io shows, plus whether Tessera's
 * resource-server checks would accept the token, explained. Reads the token from standard
 * input with `-` (keeps it out of shell history). Needs no database: only the issuer's HTTP
 * endpoints. Without --issuer or --jwks the token is only decoded: nothing is fetched from the
 * URL in its own iss. Exit code 0 valid, 1 not valid, 2 bad arguments, 3 decoded but not
 * verified (no --issuer or --jwks given).
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { inspectToken, renderReport, type InspectOptions } from '../../src/inspect';
import { UsageError, type Command, type CommandGroup } from './types';

/** Exit codes by outcome; 2 (bad arguments) is the CLI's own. */
const EXIT_CODES = { valid: 0, invalid: 1, unverified: 3 } as const;

const inspect: Command = {
  summary: "decode a JWT, verify it against the issuer's JWKS and explain every check",
  usage:
    '<jwt|-> [--issuer URL] [--audience A] [--jwks FILE|URL] [--client-id ID --client-secret S]',
  positionals: 1,
  options: {
    issuer: {
      kind: 'string',
      value: 'URL',
      help: 'the issuer to verify against (without it and --jwks the token is only decoded)',
    },
    audience: {
      kind: 'string',
      value: 'A',
      help: "this API's identifier; the token's aud must contain it",
    },
    jwks: {
      kind: 'string',
      value: 'FILE|URL',
      help: "verify against this JWKS instead of the issuer's",
    },
    'client-id': {
      kind: 'string',
      value: 'ID',
      help: 'confidential client allowed to call /introspect (revocation check)',
    },
    'client-secret': { kind: 'string', value: 'S' },
  },
  async run(args, ctx) {
    const [arg] = args.positionals;
    if (!arg) throw new UsageError('give the token, or - to read it from standard input');
    const token = (arg === '-' ? await ctx.readStdin() : arg).trim();
    if (!token) throw new UsageError('no token given');
    const options: InspectOptions = {};
    const issuer = args.string('issuer');
    if (issuer !== undefined && !isHttpUrl(issuer))
      throw new UsageError(
        `--issuer ${issuer}: must be an http(s) URL such as https://auth.example.com`,
      );
    if (issuer) options.issuer = issuer;
    const audience = args.string('audience');
    if (audience) options.audience = audience;
    const jwks = args.string('jwks');
    if (jwks)
      options.jwks = /^https?:\/\//i.test(jwks)
        ? { url: jwksUrl(jwks) }
        : { keys: readJwksFile(jwks) };
    const clientId = args.string('client-id');
    const clientSecret = args.string('client-secret');
    if (!!clientId !== !!clientSecret)
      throw new UsageError('--client-id and --client-secret go together');
    // The secret is sent only to an issuer the operator named, never to the token's own iss.
    if (clientId && !issuer)
      throw new UsageError(
        '--client-id and --client-secret need --issuer: the secret is sent only to an issuer you name',
      );
    if (clientId && clientSecret) options.introspection = { clientId, clientSecret };
    const report = await inspectToken(token, options);
    return { json: report, text: renderReport(report), exitCode: EXIT_CODES[report.outcome] };
  },
};

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

function jwksUrl(value: string): string {
  if (!isHttpUrl(value)) throw new UsageError(`--jwks ${value}: not a valid URL`);
  return value;
}

function readJwksFile(path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--jwks ${path}: ${(err as Error).message}`);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !Array.isArray((parsed as JSONWebKeySet).keys)
  )
    throw new UsageError(`--jwks ${path}: not a JWK Set ({"keys": [...]})`);
  return parsed as JSONWebKeySet;
}

export const tokenCommands: CommandGroup = { inspect };
