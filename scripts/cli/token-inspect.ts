/**
 * `tessera token inspect <jwt|-> [--issuer URL] [--audience A] [--jwks FILE|URL]
 *  [--client-id ID --client-secret S] [--json]` — what jwt.io shows, plus whether Tessera's
 * resource-server checks would accept the token, explained. Reads the token from standard
 * input with `-` (keeps it out of shell history). Needs no database: only the issuer's HTTP
 * endpoints. Exit code 0 valid, 1 not valid, 2 bad arguments.
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { inspectToken, renderReport, type InspectOptions } from '../../src/inspect';
import { UsageError, type Command, type CommandGroup } from './types';

const inspect: Command = {
  summary: 'decode a JWT, verify it against the issuer\'s JWKS and explain every check',
  usage: '<jwt|-> [--issuer URL] [--audience A] [--jwks FILE|URL] [--client-id ID --client-secret S]',
  positionals: 1,
  options: {
    issuer: { kind: 'string', value: 'URL', help: 'expected issuer (default: the token\'s own iss, unverified)' },
    audience: { kind: 'string', value: 'A', help: 'this API\'s identifier; the token\'s aud must contain it' },
    jwks: { kind: 'string', value: 'FILE|URL', help: 'verify against this JWKS instead of the issuer\'s' },
    'client-id': { kind: 'string', value: 'ID', help: 'confidential client allowed to call /introspect (revocation check)' },
    'client-secret': { kind: 'string', value: 'S' },
  },
  async run(args, ctx) {
    const [arg] = args.positionals;
    if (!arg) throw new UsageError('give the token, or - to read it from standard input');
    const token = (arg === '-' ? await ctx.readStdin() : arg).trim();
    if (!token) throw new UsageError('no token given');
    const options: InspectOptions = {};
    const issuer = args.string('issuer');
    if (issuer) options.issuer = issuer;
    const audience = args.string('audience');
    if (audience) options.audience = audience;
    const jwks = args.string('jwks');
    if (jwks) options.jwks = /^https?:\/\//.test(jwks) ? { url: jwks } : { keys: readJwksFile(jwks) };
    const clientId = args.string('client-id');
    const clientSecret = args.string('client-secret');
    if (!!clientId !== !!clientSecret) throw new UsageError('--client-id and --client-secret go together');
    if (clientId && clientSecret) options.introspection = { clientId, clientSecret };
    const report = await inspectToken(token, options);
    return { json: report, text: renderReport(report), exitCode: report.valid ? 0 : 1 };
  },
};

function readJwksFile(path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--jwks ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as JSONWebKeySet).keys)) throw new UsageError(`--jwks ${path}: not a JWK Set ({"keys": [...]})`);
  return parsed as JSONWebKeySet;
}

export const tokenCommands: CommandGroup = { inspect };
