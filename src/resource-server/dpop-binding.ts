/**
 * DPoP at a resource server (RFC 9449 §7): a token bound to a key (`cnf.jkt`) is accepted only
 * as `Authorization: DPoP <token>` with a proof by that key for this request and this token
 * (`ath`); the same token as `Bearer` is refused, since accepting it would make the binding
 * pointless. An unbound token sent with the DPoP scheme is refused too: the scheme promises a
 * binding the token does not have. Refusals carry a `WWW-Authenticate: DPoP` challenge (the
 * middleware writes it), with the nonce to use when the API requires nonces (§9).
 */
import type { Context } from 'koa';
import { AccessTokenError } from './errors';
import { DpopProofError, verifyDpopProof, type DpopAlg } from './dpop';
import type { DpopNonces } from './dpop-nonce';
import type { VerifiedAccessToken } from './verify';

export interface ResourceDpopOptions {
  /** Accepted proof algorithms (default: RS256, PS256, ES256, EdDSA). */
  algorithms?: readonly DpopAlg[];
  /** Seconds a proof is accepted after its `iat` (default 60). */
  proofMaxAgeSeconds?: number;
  /** Require server-provided nonces (§9); share one DpopNonces (and its secret) across replicas. */
  nonces?: DpopNonces;
  /**
   * Single use of proofs (§11.1): record `key` until `expiresAt`, false when already recorded.
   * Default: a store in this process's memory (replicas behind one URL should share one).
   */
  useOnce?: (key: string, expiresAt: Date) => Promise<boolean> | boolean;
  /** The URL the client addressed (`htu`); default the request's protocol, host and path (Koa's `app.proxy` applies). */
  requestUrl?: (ctx: Context) => string;
}

export const DEFAULT_PROOF_MAX_AGE_SECONDS = 60;

/** The access token as sent: `DPoP <token>` (§7.1), else the caller's bearer token. */
export function dpopCredentials(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  if (!/^DPoP(\s|$)/i.test(header)) return undefined;
  const match = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match)
    throw new AccessTokenError('invalid_request', 'bad_request', 'malformed DPoP credentials', {
      scheme: 'DPoP',
    });
  return match[1];
}

/** Enforces a verified token's binding for its request (see the header); throws AccessTokenError. */
export type DpopBindingCheck = (
  ctx: Context,
  token: string,
  scheme: 'Bearer' | 'DPoP',
  auth: VerifiedAccessToken,
) => Promise<void>;

/** The check with `options`, the middleware's clock and clock tolerance. */
export function dpopBinding(
  options: ResourceDpopOptions,
  now: () => number,
  toleranceSeconds: number,
): DpopBindingCheck {
  const useOnce = options.useOnce ?? new MemoryProofLog(now).useOnce;
  return (ctx, token, scheme, auth) =>
    checkBinding(ctx, token, scheme, auth, options, { now, toleranceSeconds, useOnce });
}

async function checkBinding(
  ctx: Context,
  token: string,
  scheme: 'Bearer' | 'DPoP',
  auth: VerifiedAccessToken,
  options: ResourceDpopOptions,
  clock: { now: () => number; toleranceSeconds: number; useOnce: ResourceDpopOptions['useOnce'] },
): Promise<void> {
  const jkt = auth.claims.cnf?.jkt;
  if (jkt === undefined) {
    if (scheme === 'DPoP')
      throw refusal('invalid_token', 'dpop_binding', 'the token is not DPoP-bound');
    return;
  }
  if (scheme !== 'DPoP')
    throw refusal('invalid_token', 'dpop_binding', 'the token is DPoP-bound: use the DPoP scheme');
  let proof;
  try {
    proof = await verifyDpopProof(ctx.req.headersDistinct.dpop, {
      method: ctx.method,
      url: options.requestUrl
        ? options.requestUrl(ctx)
        : `${ctx.protocol}://${ctx.host}${ctx.path}`,
      now: clock.now(),
      maxAgeSeconds: options.proofMaxAgeSeconds ?? DEFAULT_PROOF_MAX_AGE_SECONDS,
      clockToleranceSeconds: clock.toleranceSeconds,
      accessToken: token,
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
      ...(options.nonces ? { nonces: options.nonces } : {}),
      ...(clock.useOnce ? { useOnce: clock.useOnce } : {}),
    });
  } catch (err) {
    if (!(err instanceof DpopProofError)) throw err;
    if (err.error === 'use_dpop_nonce')
      throw refusal('use_dpop_nonce', 'dpop_nonce', err.message, options.nonces?.current(), err);
    throw refusal('invalid_dpop_proof', 'dpop_proof', err.message, undefined, err);
  }
  // §4.3 item 12: made with the key the token is bound to.
  if (proof.jkt !== jkt)
    throw refusal('invalid_dpop_proof', 'dpop_proof', 'the DPoP proof key is not the token key');
  if (proof.staleNonce && options.nonces) ctx.set('DPoP-Nonce', options.nonces.current());
}

function refusal(
  error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce',
  reason: 'dpop_binding' | 'dpop_proof' | 'dpop_nonce',
  description: string,
  nonce?: string,
  cause?: unknown,
): AccessTokenError {
  return new AccessTokenError(error, reason, description, {
    scheme: 'DPoP',
    cause,
    ...(nonce ? { nonce } : {}),
  });
}

/**
 * Proofs seen by this process (§11.1), until each could no longer be accepted anyway. Bounded:
 * past `maxEntries` live entries the oldest are forgotten first (they are the nearest to
 * expiring), so memory stays flat under any load.
 */
export class MemoryProofLog {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  useOnce = (key: string, expiresAt: Date): boolean => {
    const now = this.now();
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.delete(key);
    if (this.seen.size >= this.maxEntries) this.prune(now);
    this.seen.set(key, expiresAt.getTime());
    return true;
  };

  private prune(now: number): void {
    for (const [key, until] of this.seen) {
      if (until <= now || this.seen.size >= this.maxEntries) this.seen.delete(key);
      else break;
    }
  }
}
