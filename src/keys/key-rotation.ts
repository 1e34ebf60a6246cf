/**
 * Executes rotation steps planned by ./plan.ts. Every step runs in ONE transaction under the
 * key store's PostgreSQL advisory lock: concurrent rotations (the script, several instances)
 * serialise, each re-reads the keys inside the lock, and a step either happens entirely or not
 * at all. Every state change is a conditional update that must hit its row in the expected
 * state. After a change, the caller's KeyStore should refresh(); other instances pick the
 * change up by polling within KEY_REFRESH_INTERVAL.
 */
import type { Config } from '../config';
import type { AuditLog } from '../observability/audit-log';
import type { ClientRepository } from '../clients/client-storage';
import type { SigningAlg } from './algorithms';
import type { SigningKeyRecord, SigningKeyRepository, SigningKeyTx } from './signing-key-storage';
import type { Clock } from '../shared/clock';
import { seal, type Kek } from './envelope';
import { assertKeysOpen, createKey, openPrivateJwk } from './lifecycle';
import {
  hasChanges,
  planEmergency,
  planRotation,
  RotationError,
  type RotationMode,
  type RotationPlan,
  type RotationPolicy,
} from './plan';

export interface KeyRotationDeps {
  readonly config: Pick<
    Config,
    | 'SIGNING_ALGS'
    | 'JWKS_MAX_AGE'
    | 'KEY_PUBLISH_MARGIN'
    | 'KEY_REFRESH_INTERVAL'
    | 'KEY_ROTATION_INTERVAL'
    | 'CLOCK_SKEW'
    | 'ACCESS_TOKEN_TTL'
    | 'ID_TOKEN_TTL'
  >;
  readonly signingKeys: SigningKeyRepository;
  readonly keks: readonly Kek[];
  readonly clock: Clock;
  readonly clients: Pick<ClientRepository, 'longestTokenTtl'>;
  readonly audit?: Pick<AuditLog, 'record'>;
}

export interface CreatedKey {
  kid: string;
  alg: SigningAlg;
  state: 'next' | 'active';
}

export interface KeyRotationResult {
  plan: RotationPlan;
  /** True when the plan's changes were committed (false for a dry run or nothing to do). */
  applied: boolean;
  created: CreatedKey[];
}

/**
 * The waits, from the configuration and the clients' token-lifetime overrides.
 *
 * Publish wait = JWKS_MAX_AGE + KEY_PUBLISH_MARGIN + KEY_REFRESH_INTERVAL: another instance
 * may serve the old JWKS for up to KEY_REFRESH_INTERVAL after a key is created, and a verifier
 * that fetched it then caches it for JWKS_MAX_AGE. Retire wait = longest token lifetime +
 * CLOCK_SKEW + KEY_REFRESH_INTERVAL: other instances keep signing with a demoted key until
 * they refresh, and verifiers accept tokens CLOCK_SKEW past their expiry (RFC 7519 §4.1.4).
 */
export async function rotationPolicy(
  deps: Pick<KeyRotationDeps, 'config' | 'clients'>,
): Promise<RotationPolicy> {
  const c = deps.config;
  const longestTokenLifetime = Math.max(
    c.ACCESS_TOKEN_TTL,
    c.ID_TOKEN_TTL,
    (await deps.clients.longestTokenTtl()) ?? 0,
  );
  return {
    ...timingPolicy(c),
    retireWaitSeconds: longestTokenLifetime + c.CLOCK_SKEW + c.KEY_REFRESH_INTERVAL,
  };
}

/**
 * The policy without the retire wait (0), which needs the clients' overrides: enough to tell
 * whether a step is due, since the retire wait only dates a demotion.
 */
export function timingPolicy(c: KeyRotationDeps['config']): RotationPolicy {
  return {
    publishWaitSeconds: c.JWKS_MAX_AGE + c.KEY_PUBLISH_MARGIN + c.KEY_REFRESH_INTERVAL,
    retireWaitSeconds: 0,
    rotationIntervalSeconds: c.KEY_ROTATION_INTERVAL ?? null,
    jwksMaxAgeSeconds: c.JWKS_MAX_AGE,
  };
}

export interface RotateSigningKeysOptions {
  /** Defaults to every configured algorithm. */
  algs?: readonly SigningAlg[];
  mode?: RotationMode;
  dryRun?: boolean;
  /** `try`: give up at once (result null) when another instance holds the lock. */
  lock?: 'wait' | 'try';
}

/** One rotation step (see planRotation for what it does). */
export async function rotateSigningKeys(
  deps: KeyRotationDeps,
  options: RotateSigningKeysOptions & { lock: 'try' },
): Promise<KeyRotationResult | null>;
export async function rotateSigningKeys(
  deps: KeyRotationDeps,
  options?: RotateSigningKeysOptions,
): Promise<KeyRotationResult>;
export async function rotateSigningKeys(
  deps: KeyRotationDeps,
  options: RotateSigningKeysOptions = {},
): Promise<KeyRotationResult | null> {
  const algs = options.algs ?? deps.config.SIGNING_ALGS;
  const mode = options.mode ?? 'manual';
  const policy = await rotationPolicy(deps);
  const planFor = (keys: readonly SigningKeyRecord[]) =>
    planRotation(keys, deps.clock.now(), policy, mode, algs);
  if (options.dryRun)
    return { plan: planFor(await deps.signingKeys.listAll()), applied: false, created: [] };
  const step = async (tx: SigningKeyTx) => {
    const keys = await tx.list();
    return applyPlan(tx, deps, keys, planFor(keys));
  };
  const result =
    options.lock === 'try'
      ? await deps.signingKeys.tryLocked(step)
      : await deps.signingKeys.locked(step);
  if (result?.applied)
    await recordAudit(
      deps,
      mode === 'auto' ? 'signing_keys.rotated_automatically' : 'signing_keys.rotated',
      result,
    );
  return result;
}

/** Emergency retirement of a compromised key; see planEmergency. Check `plan.warnings`. */
export async function emergencyRetire(
  deps: KeyRotationDeps,
  kid: string,
  options: { dryRun?: boolean } = {},
): Promise<KeyRotationResult> {
  const policy = await rotationPolicy(deps);
  if (options.dryRun)
    return {
      plan: planEmergency(await deps.signingKeys.listAll(), kid, deps.clock.now(), policy),
      applied: false,
      created: [],
    };
  const result = await deps.signingKeys.locked(async (tx) => {
    const keys = await tx.list();
    return applyPlan(tx, deps, keys, planEmergency(keys, kid, deps.clock.now(), policy));
  });
  await recordAudit(deps, 'signing_keys.emergency_retired', result);
  return result;
}

/**
 * At start-up: refuse undecryptable keys (KekError, nothing created), then make sure every
 * configured algorithm has an active and a next key — promoting a next key that has been
 * published long enough, else creating an active key (the first key has no tokens to break).
 */
export async function ensureUsableKeys(deps: KeyRotationDeps): Promise<CreatedKey[]> {
  const policy = await rotationPolicy(deps);
  const result = await deps.signingKeys.locked(async (tx) => {
    const keys = await tx.list();
    assertKeysOpen(keys, deps.keks);
    return applyPlan(
      tx,
      deps,
      keys,
      planRotation(keys, deps.clock.now(), policy, 'start', deps.config.SIGNING_ALGS),
    );
  });
  return result.created;
}

/** `keys reencrypt`: seals every unretired key's private part under the first KEK. */
export async function reencryptAll(
  deps: Pick<KeyRotationDeps, 'signingKeys' | 'keks'>,
): Promise<{ reencrypted: string[]; unchanged: string[] }> {
  const kek = deps.keks[0]!;
  return deps.signingKeys.locked(async (tx) => {
    const keys = (await tx.list()).filter((k) => k.state !== 'retired' && k.privateKeyCipher);
    assertKeysOpen(keys, deps.keks);
    const reencrypted: string[] = [];
    for (const k of keys.filter((key) => key.kekId !== kek.id)) {
      const plaintext = Buffer.from(JSON.stringify(openPrivateJwk(deps.keks, k)), 'utf8');
      const sealed = seal(kek, k.kid, plaintext);
      plaintext.fill(0);
      if (!(await tx.transition(k.kid, k.state, { privateKeyCipher: sealed, kekId: kek.id })))
        throw concurrentChange(k.kid);
      reencrypted.push(k.kid);
    }
    return { reencrypted, unchanged: keys.filter((k) => k.kekId === kek.id).map((k) => k.kid) };
  });
}

async function applyPlan(
  tx: SigningKeyTx,
  deps: KeyRotationDeps,
  keys: readonly SigningKeyRecord[],
  plan: RotationPlan,
): Promise<KeyRotationResult> {
  if (!hasChanges(plan)) return { plan, applied: false, created: [] };
  const now = plan.at;
  // A key about to sign must be readable, or the step fails with nothing changed.
  const promoted = new Set(
    plan.algs.flatMap((a) => a.actions.flatMap((x) => (x.type === 'promote' ? [x.kid] : []))),
  );
  assertKeysOpen(
    keys.filter((k) => promoted.has(k.kid)),
    deps.keks,
  );
  const created: CreatedKey[] = [];
  for (const action of plan.algs.flatMap((a) => a.actions)) {
    let ok = true;
    switch (action.type) {
      case 'retire':
        // The private part is destroyed: a retired key can never sign again.
        ok = await tx.transition(action.kid, action.from, {
          state: 'retired',
          privateKeyCipher: null,
          retiredAt: now,
        });
        break;
      case 'demote':
        ok = await tx.transition(action.kid, 'active', {
          state: 'retiring',
          retiringAt: now,
          retireAfter: action.retireAfter,
        });
        break;
      case 'promote':
        ok = await tx.transition(action.kid, 'next', { state: 'active', activatedAt: now });
        break;
      case 'create':
        created.push({
          alg: action.alg,
          state: action.state,
          kid: await createKey(tx, deps.keks[0]!, action.alg, action.state, now),
        });
        break;
    }
    if (!ok) throw concurrentChange('kid' in action ? action.kid : action.alg);
  }
  return { plan, applied: true, created };
}

function concurrentChange(what: string): RotationError {
  return new RotationError(
    `signing key ${what} changed during the rotation; nothing was changed, run it again`,
  );
}

async function recordAudit(
  deps: KeyRotationDeps,
  type: string,
  result: KeyRotationResult,
): Promise<void> {
  if (!deps.audit || !result.applied) return;
  const actions = result.plan.algs.flatMap((a) => a.actions.map((x) => ({ ...x })));
  await deps.audit.record({ type, details: { actions, created: result.created } }).catch(() => {});
}
