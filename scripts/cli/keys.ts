/**
 * `tessera keys ...` (and `npm run keys:rotate`): thin wrappers over src/keys/key-rotation.ts, the
 * same module the server's automatic rotation uses. Only public facts are printed — kids,
 * algorithms, states and dates — never private key material.
 */
import type { RotationPlan, KeyAction } from '../../src/keys/plan';
import {
  emergencyRetire,
  reencryptAll,
  rotateSigningKeys,
  type KeyRotationResult,
} from '../../src/keys/key-rotation';
import { SIGNING_ALGS, type SigningAlg } from '../../src/keys/algorithms';
import type { SigningKeyRecord } from '../../src/keys/signing-key-storage';
import type { Services } from '../../src/services';
import { iso, table } from './output';
import { UsageError, type Command, type CommandGroup, type ParsedArgs } from './types';

function parseAlgs(args: ParsedArgs): SigningAlg[] | undefined {
  const alg = args.string('alg') ?? 'all';
  if (alg === 'all') return undefined;
  if (!(SIGNING_ALGS as readonly string[]).includes(alg))
    throw new UsageError(`--alg must be ${SIGNING_ALGS.join(', ')} or all`);
  return [alg as SigningAlg];
}

function describe(action: KeyAction): string {
  switch (action.type) {
    case 'retire':
      return `retire ${action.kid} (${action.from} → retired, private part destroyed${action.reason === 'emergency' ? ', EMERGENCY' : ''})`;
    case 'demote':
      return `demote ${action.kid} (active → retiring, published until ${action.retireAfter.toISOString()})`;
    case 'promote':
      return `promote ${action.kid} (next → active: signs from now on)`;
    case 'create':
      return `create a new ${action.state} key`;
  }
}

function renderPlan(plan: RotationPlan, result: KeyRotationResult, dryRun: boolean): string {
  const lines: string[] = [];
  for (const a of plan.algs) {
    const done = a.actions.map((x) => `  ${dryRun ? 'would ' : ''}${describe(x)}`);
    lines.push(`${a.alg}:`, ...(done.length ? done : ['  nothing to do']));
    if (a.nextEligibleAt)
      lines.push(
        `  the next key may be promoted from ${a.nextEligibleAt.toISOString()} (run again then)`,
      );
  }
  for (const c of result.created) lines.push(`created ${c.alg} ${c.state} key ${c.kid}`);
  for (const w of plan.warnings) lines.push(`WARNING: ${w}`);
  return lines.join('\n');
}

function resultJson(result: KeyRotationResult, dryRun: boolean) {
  return {
    dry_run: dryRun,
    applied: result.applied,
    at: iso(result.plan.at),
    algs: result.plan.algs.map((a) => ({
      alg: a.alg,
      actions: a.actions.map((x) => ({
        ...x,
        ...('retireAfter' in x ? { retireAfter: iso(x.retireAfter) } : {}),
      })),
      next_eligible_at: iso(a.nextEligibleAt),
    })),
    created: result.created,
    warnings: result.plan.warnings,
  };
}

const rotateCommand: Command = {
  summary:
    'one rotation step: promote next → active when published long enough, demote the old active, create a new next, retire what is due',
  options: {
    alg: { kind: 'string', value: 'RS256|ES256|all', help: 'default all' },
    'dry-run': { kind: 'boolean', help: 'show the plan, change nothing' },
    emergency: { kind: 'boolean', help: 'retire --kid at once and activate a replacement' },
    kid: { kind: 'string', value: 'K' },
  },
  async run(args, ctx) {
    const algs = parseAlgs(args);
    const dryRun = args.flag('dry-run');
    const kid = args.string('kid');
    if (args.flag('emergency') !== (kid !== undefined))
      throw new UsageError('--emergency and --kid go together');
    if (kid !== undefined && args.string('alg') !== undefined)
      throw new UsageError('--alg cannot be combined with --emergency (the kid names the key)');
    const services = await ctx.services();
    if (algs && !services.config.SIGNING_ALGS.includes(algs[0]!))
      throw new UsageError(
        `${algs[0]} is not in SIGNING_ALGS (${services.config.SIGNING_ALGS.join(',')})`,
      );
    const result =
      kid !== undefined
        ? await emergencyRetire(services, kid, { dryRun })
        : await rotateSigningKeys(services, { ...(algs ? { algs } : {}), dryRun, mode: 'manual' });
    return { json: resultJson(result, dryRun), text: renderPlan(result.plan, result, dryRun) };
  },
};

function keyJson(k: SigningKeyRecord) {
  return {
    kid: k.kid,
    alg: k.alg,
    state: k.state,
    kek_id: k.kekId,
    published_at: iso(k.publishedAt),
    activated_at: iso(k.activatedAt),
    retiring_at: iso(k.retiringAt),
    retire_after: iso(k.retireAfter),
    retired_at: iso(k.retiredAt),
  };
}

const list: Command = {
  summary: 'list signing keys: kid, alg, state and dates (never private material)',
  options: {},
  async run(_args, ctx) {
    const keys = await (await ctx.services()).signingKeys.listAll();
    const rows = keys.map(
      (k) =>
        [k.kid, k.alg, k.state, k.publishedAt, k.activatedAt, k.retireAfter, k.retiredAt] as const,
    );
    return {
      json: keys.map(keyJson),
      text: table(
        ['kid', 'alg', 'state', 'published', 'activated', 'retire_after', 'retired'],
        rows,
      ),
    };
  },
};

const reencrypt: Command = {
  summary:
    'seal every unretired private key under the first KEY_ENCRYPTION_KEY (after configuring "new,old")',
  options: {},
  async run(_args, ctx) {
    const services: Services = await ctx.services();
    const { reencrypted, unchanged } = await reencryptAll(services);
    const text =
      `re-encrypted ${reencrypted.length} key(s) under key-encryption key ${services.keks[0]!.id}; ${unchanged.length} already were` +
      (reencrypted.length
        ? '\nOnce every instance runs with the new key first, the old one may be removed from KEY_ENCRYPTION_KEY.'
        : '');
    return { json: { kek_id: services.keks[0]!.id, reencrypted, unchanged }, text };
  },
};

export const keysCommands: CommandGroup = { rotate: rotateCommand, list, reencrypt };
