/**
 * DPoP proofs as Tessera checks them (RFC 9449 §4.3): the toolkit's verifier
 * (resource-server/dpop.ts, shared with the APIs that accept our tokens) with this server's
 * policy — the accepted algorithms, DPOP_PROOF_MAX_AGE and CLOCK_SKEW, the shared single-use
 * store (a proof replayed to another instance is refused too) and, with DPOP_NONCE, nonces
 * derived from the key-encryption key (the same at every instance, nothing stored).
 */
import { hkdfSync } from 'node:crypto';
import type { Config } from '../../config';
import type { Kek } from '../../keys/envelope';
import { DpopNonces } from '../../resource-server/dpop-nonce';
import {
  DPOP_ALGS,
  verifyDpopProof,
  type DpopAlg,
  type VerifiedDpopProof,
} from '../../resource-server/dpop';
import type { Clock } from '../../shared/clock';
import type { UsedJtiRepository } from '../replay/used-jti-storage';

/** What the proof was presented with. */
export interface ProofRequest {
  /** The DPoP header's values as received (none: undefined or empty). */
  values: readonly string[] | undefined;
  method: string;
  /** The endpoint's public URL (under the issuer), which the client addressed. */
  url: string;
  /** At userinfo: the access token the proof must be bound to (`ath`). */
  accessToken?: string;
}

export interface DpopProofs {
  /** The algorithms proofs may use (discovery's dpop_signing_alg_values_supported). */
  readonly algorithms: readonly DpopAlg[];
  /** The nonces, when DPOP_NONCE is on. */
  readonly nonces: DpopNonces | undefined;
  /** Verifies a proof fully and records its use; rejects with the toolkit's DpopProofError. */
  verify(request: ProofRequest): Promise<VerifiedDpopProof>;
}

export interface DpopDeps {
  config: Pick<Config, 'DPOP_PROOF_MAX_AGE' | 'DPOP_NONCE' | 'DPOP_NONCE_WINDOW' | 'CLOCK_SKEW'>;
  clock: Clock;
  keks: readonly Kek[];
  usedJtis: UsedJtiRepository;
}

/** The server's proof checks; build once per process (the nonces remember their window). */
export function dpopProofs(deps: DpopDeps): DpopProofs {
  const { config, clock, usedJtis } = deps;
  const nonces = config.DPOP_NONCE
    ? new DpopNonces({
        secrets: deps.keks.map((k) => nonceSecret(k.key)),
        windowSeconds: config.DPOP_NONCE_WINDOW,
        now: () => clock.now().getTime(),
      })
    : undefined;
  return {
    algorithms: DPOP_ALGS,
    nonces,
    verify: (request) =>
      verifyDpopProof(request.values, {
        method: request.method,
        url: request.url,
        now: clock.now().getTime(),
        maxAgeSeconds: config.DPOP_PROOF_MAX_AGE,
        clockToleranceSeconds: config.CLOCK_SKEW,
        algorithms: DPOP_ALGS,
        ...(request.accessToken === undefined ? {} : { accessToken: request.accessToken }),
        ...(nonces ? { nonces } : {}),
        useOnce: (key, expiresAt) => usedJtis.useOnce('dpop_proof', key, expiresAt),
      }),
  };
}

/** A nonce key of its own per KEK (HKDF), so a nonce reveals nothing usable about the KEK. */
function nonceSecret(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'tessera dpop nonce', 32));
}

/** The DPoP header's values of a Node request, each repetition apart (§4.3 item 1). */
export function dpopHeaderValues(req: {
  headersDistinct: Record<string, string[] | undefined>;
}): string[] | undefined {
  return req.headersDistinct.dpop;
}
