/**
 * What one rotation step would do, decided from the keys' states and dates alone (pure: no
 * database, no clock). ./rotation.ts applies a plan inside one locked transaction; `--dry-run`
 * prints it.
 *
 * The rules that make breakage impossible (issue 3):
 * - a key signs only once it has been published for `publishWaitSeconds` (every verifier's
 *   cached JWKS has had time to expire and be refetched with it);
 * - a demoted key stays published until `retireAfter` (every token it signed has expired);
 * - a configured algorithm never lacks an active key.
 */
import type { KeyState, SigningKeyRecord } from './signing-key-storage';
import type { SigningAlg } from './algorithms';

export interface RotationPolicy {
  /** Seconds a key must be published before it may sign (see rotationPolicy()). */
  publishWaitSeconds: number;
  /** Seconds a demoted key stays published: longest token lifetime + clock skew + refresh lag. */
  retireWaitSeconds: number;
  /** Automatic rotation: seconds after activation the active key falls due; null = never. */
  rotationIntervalSeconds: number | null;
  /** For warnings: how long verifiers may cache the JWKS. */
  jwksMaxAgeSeconds: number;
}

/**
 * `start`: only repair (no active key, no next key, retire what is due).
 * `manual`: also promote the next key whenever it is eligible (operator's `keys rotate`).
 * `auto`: also promote when the active key is older than the rotation interval.
 */
export type RotationMode = 'start' | 'manual' | 'auto';

export type KeyAction =
  | {
      type: 'retire';
      alg: SigningAlg;
      kid: string;
      from: KeyState;
      reason: 'expired' | 'emergency';
    }
  | { type: 'demote'; alg: SigningAlg; kid: string; retireAfter: Date }
  | { type: 'promote'; alg: SigningAlg; kid: string }
  | { type: 'create'; alg: SigningAlg; state: 'next' | 'active' };

export interface AlgPlan {
  alg: SigningAlg;
  actions: KeyAction[];
  /** When the waiting `next` key may be promoted, if it may not yet. */
  nextEligibleAt: Date | null;
  /** When the active key falls due for automatic rotation (auto mode with an interval). */
  activeDueAt: Date | null;
}

export interface RotationPlan {
  at: Date;
  algs: AlgPlan[];
  warnings: string[];
}

const addSeconds = (d: Date, s: number) => new Date(d.getTime() + s * 1000);

export function planRotation(
  keys: readonly SigningKeyRecord[],
  now: Date,
  policy: RotationPolicy,
  mode: RotationMode,
  algs: readonly SigningAlg[],
): RotationPlan {
  return {
    at: now,
    algs: algs.map((alg) =>
      planAlg(
        keys.filter((k) => k.alg === alg),
        alg,
        now,
        policy,
        mode,
      ),
    ),
    warnings: [],
  };
}

function planAlg(
  keys: readonly SigningKeyRecord[],
  alg: SigningAlg,
  now: Date,
  policy: RotationPolicy,
  mode: RotationMode,
): AlgPlan {
  const actions: KeyAction[] = [];
  const retireAfter = addSeconds(now, policy.retireWaitSeconds);

  for (const k of keys) {
    if (k.state === 'retiring' && (k.retireAfter ?? k.retiringAt ?? now) <= now) {
      actions.push({ type: 'retire', alg, kid: k.kid, from: 'retiring', reason: 'expired' });
    }
  }

  // Newest activation first; a second active key (never made by these rules) is demoted.
  const actives = keys
    .filter((k) => k.state === 'active')
    .sort((a, b) => activation(b).getTime() - activation(a).getTime());
  for (const extra of actives.slice(1))
    actions.push({ type: 'demote', alg, kid: extra.kid, retireAfter });
  const active = actives[0];

  const nexts = keys
    .filter((k) => k.state === 'next')
    .sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime());
  const candidate = nexts[0];
  const eligibleAt = candidate
    ? addSeconds(candidate.publishedAt, policy.publishWaitSeconds)
    : null;
  const eligible = eligibleAt !== null && eligibleAt <= now;
  const activeDueAt =
    active && mode === 'auto' && policy.rotationIntervalSeconds !== null
      ? addSeconds(activation(active), policy.rotationIntervalSeconds)
      : null;

  let promoted = false;
  if (!active) {
    // No usable key: an eligible next may sign at once; otherwise a fresh active key. It has
    // no tokens that could break, and the algorithm must never be left without a signer.
    if (eligible) {
      actions.push({ type: 'promote', alg, kid: candidate!.kid });
      promoted = true;
    } else {
      actions.push({ type: 'create', alg, state: 'active' });
    }
  } else if (eligible && (mode === 'manual' || (activeDueAt !== null && activeDueAt <= now))) {
    actions.push({ type: 'demote', alg, kid: active.kid, retireAfter });
    actions.push({ type: 'promote', alg, kid: candidate!.kid });
    promoted = true;
  }
  if (nexts.length - (promoted ? 1 : 0) === 0) actions.push({ type: 'create', alg, state: 'next' });

  return {
    alg,
    actions,
    nextEligibleAt: candidate && !eligible && !promoted ? eligibleAt : null,
    activeDueAt,
  };
}

/**
 * Emergency: the key `kid` is compromised. It is retired now (its tokens stop verifying,
 * which is the point); if it was the active key, a replacement signs at once — the longest
 * published next key, or a new key — and a fresh next key is created.
 */
export function planEmergency(
  keys: readonly SigningKeyRecord[],
  kid: string,
  now: Date,
  policy: RotationPolicy,
): RotationPlan {
  const key = keys.find((k) => k.kid === kid && k.state !== 'retired');
  if (!key) throw new RotationError(`no published signing key has kid ${kid}`);
  const alg = key.alg;
  const actions: KeyAction[] = [{ type: 'retire', alg, kid, from: key.state, reason: 'emergency' }];
  const warnings = [
    `Key ${kid} is no longer published, but verifiers that cached the JWKS may accept its tokens for up to JWKS_MAX_AGE (${policy.jwksMaxAgeSeconds} s): purge gateway/JWKS caches or restart verifiers to cut that short. Every Tessera instance drops it within KEY_REFRESH_INTERVAL.`,
  ];
  const nexts = keys
    .filter((k) => k.alg === alg && k.state === 'next' && k.kid !== kid)
    .sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime());
  let remainingNexts = nexts.length;
  if (key.state === 'active') {
    const replacement = nexts[0];
    if (replacement) {
      actions.push({ type: 'promote', alg, kid: replacement.kid });
      remainingNexts--;
      const eligibleAt = addSeconds(replacement.publishedAt, policy.publishWaitSeconds);
      if (eligibleAt > now) {
        warnings.push(
          `Replacement ${replacement.kid} signs before it was published for the usual ${policy.publishWaitSeconds} s: verifiers whose cached JWKS predates it reject its tokens until they refetch the JWKS.`,
        );
      }
    } else {
      actions.push({ type: 'create', alg, state: 'active' });
      warnings.push(
        `A brand-new ${alg} key signs at once: verifiers reject its tokens until they refetch the JWKS (most refetch on an unknown kid).`,
      );
    }
  }
  if (remainingNexts === 0) actions.push({ type: 'create', alg, state: 'next' });
  return { at: now, algs: [{ alg, actions, nextEligibleAt: null, activeDueAt: null }], warnings };
}

export function hasChanges(plan: RotationPlan): boolean {
  return plan.algs.some((a) => a.actions.length > 0);
}

function activation(k: SigningKeyRecord): Date {
  return k.activatedAt ?? k.publishedAt;
}

/** A rotation that was refused; nothing was changed. */
export class RotationError extends Error {
  override name = 'RotationError';
}
