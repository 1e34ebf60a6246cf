/**
 * Automatic rotation (KEY_ROTATION_INTERVAL): a running server checks, every
 * KEY_REFRESH_INTERVAL, whether a step is due — the active key is older than the interval and
 * the next key is eligible, a retiring key's tokens have all expired, or a key is missing — and
 * performs the same step as `keys rotate` under a *try* lock, so with several instances only
 * one does it and the others simply pick the result up when they refresh.
 */
import type { Logger } from '../shared/logger';
import type { KeyStore } from './key-store';
import { hasChanges, planRotation } from './plan';
import {
  rotateSigningKeys,
  timingPolicy,
  type KeyRotationDeps,
  type KeyRotationResult,
} from './key-rotation';

export class AutoRotation {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<KeyRotationResult | null> | undefined;

  constructor(
    private readonly deps: KeyRotationDeps & { readonly keyStore: KeyStore; readonly log: Logger },
  ) {}

  /** Starts checking when KEY_ROTATION_INTERVAL is set; otherwise does nothing. */
  start(): void {
    const interval = this.deps.config.KEY_ROTATION_INTERVAL;
    if (!interval || this.timer) return;
    const everyMs = Math.min(this.deps.config.KEY_REFRESH_INTERVAL, interval) * 1000;
    this.timer = setInterval(() => {
      this.tick().catch((err) =>
        this.deps.log.warn(
          { err: { message: (err as Error).message } },
          'automatic key rotation failed; will retry',
        ),
      );
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; resolves to the step performed, or null when nothing was due (or another instance did it). */
  tick(): Promise<KeyRotationResult | null> {
    this.running ??= this.check().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(): Promise<KeyRotationResult | null> {
    // Cheap unlocked look first (one small query); the step itself re-reads and re-plans
    // inside the lock with the full policy.
    const plan = planRotation(
      await this.deps.signingKeys.listAll(),
      this.deps.clock.now(),
      timingPolicy(this.deps.config),
      'auto',
      this.deps.config.SIGNING_ALGS,
    );
    if (!hasChanges(plan)) return null;
    const result = await rotateSigningKeys(this.deps, { mode: 'auto', lock: 'try' });
    if (!result?.applied) return null;
    await this.deps.keyStore.refresh();
    this.deps.log.info(
      { actions: result.plan.algs.flatMap((a) => a.actions), created: result.created },
      'signing keys rotated automatically',
    );
    return result;
  }
}
