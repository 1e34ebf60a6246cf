/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9), derived instead of stored: the nonce of a time
 * window is an HMAC of the window's number under a server secret. Every instance holding the
 * same secret hands out and accepts the same nonces, with nothing shared but the secret — two
 * instances on one database, or an API's replicas, need no nonce table. The current window's
 * nonce and the previous one's are accepted, so a nonce handed out just before a window ends
 * still works for one more window; a client that presents an older one gets `use_dpop_nonce`
 * and the current nonce.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DpopNonceOptions {
  /** The secrets: the first makes nonces, every one is accepted (rotate by prepending). ≥ 16 bytes each. */
  secrets: readonly Uint8Array[];
  /** Length of a window in seconds (default 300); a nonce lives one to two windows. */
  windowSeconds?: number;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

export const DEFAULT_NONCE_WINDOW_SECONDS = 300;

export class DpopNonces {
  private readonly secrets: readonly Buffer[];
  private readonly windowMs: number;
  private readonly now: () => number;
  /** The nonces of the last window asked about (per secret), so a request costs no HMAC. */
  private memo: { window: number; nonces: Buffer[] } | undefined;

  constructor(options: DpopNonceOptions) {
    if (options.secrets.length === 0 || options.secrets.some((s) => s.length < 16))
      throw new RangeError('DpopNonces: at least one secret of 16 bytes or more is required');
    const windowSeconds = options.windowSeconds ?? DEFAULT_NONCE_WINDOW_SECONDS;
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1)
      throw new RangeError('DpopNonces: windowSeconds must be a positive integer');
    this.secrets = options.secrets.map((s) => Buffer.from(s));
    this.windowMs = windowSeconds * 1000;
    this.now = options.now ?? Date.now;
  }

  /** The nonce to hand out now (the `DPoP-Nonce` header). */
  current(): string {
    return this.noncesOf(this.window())[0]!.toString('base64url');
  }

  /** 'current' or 'previous' for a nonce of this or the last window (under any secret), else false. */
  accepts(nonce: string): 'current' | 'previous' | false {
    const presented = Buffer.from(nonce, 'base64url');
    if (presented.length !== 32 || presented.toString('base64url') !== nonce) return false;
    const window = this.window();
    if (this.matches(presented, window)) return 'current';
    return this.matches(presented, window - 1) ? 'previous' : false;
  }

  private window(): number {
    return Math.floor(this.now() / this.windowMs);
  }

  private matches(presented: Buffer, window: number): boolean {
    // Constant time against every candidate, so timing tells nothing about which one is close.
    let ok = false;
    for (const candidate of this.noncesOf(window)) ok = timingSafeEqual(candidate, presented) || ok;
    return ok;
  }

  private noncesOf(window: number): Buffer[] {
    if (this.memo?.window === window) return this.memo.nonces;
    const nonces = this.secrets.map((s) =>
      createHmac('sha256', s).update(`dpop-nonce:${window}`).digest(),
    );
    // Only the current window is remembered; the previous one is asked about less often.
    if (window === this.window()) this.memo = { window, nonces };
    return nonces;
  }
}
