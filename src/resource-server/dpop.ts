/**
 * DPoP proofs (RFC 9449 §4), checked the same way wherever a proof arrives: at Tessera's token
 * endpoint and userinfo, and at any API using this toolkit. Framework-free and jose-only, so it
 * ships with `tessera/resource-server`; the caller supplies where the request went, the clock,
 * its nonces and its single-use store.
 *
 * The checks run in RFC 9449 §4.3's order, cheap and key-independent ones first, the replay
 * record last so that only a proof that passed everything else is stored.
 */
import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import { importProofKey, knownProofKey, proofKeyId, rememberProofKey } from './dpop-keys';
import type { DpopNonces } from './dpop-nonce';

/** RFC 9449 §4.3 item 5: asymmetric algorithms only; `none` and MACs never. */
export const DPOP_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type DpopAlg = (typeof DPOP_ALGS)[number];

/** Why a proof was refused; stable across versions (tests and logs assert on it). */
export type DpopFailure =
  | 'missing'
  | 'multiple'
  | 'malformed'
  | 'typ'
  | 'alg'
  | 'jwk'
  | 'private_key'
  | 'signature'
  | 'claims'
  | 'htm'
  | 'htu'
  | 'iat'
  | 'ath'
  | 'nonce'
  | 'replay';

/** `invalid_dpop_proof`, or `use_dpop_nonce` when the server wants (another) nonce (§8). */
export class DpopProofError extends Error {
  override name = 'DpopProofError';
  readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce';
  constructor(
    readonly reason: DpopFailure,
    description: string,
    options: { cause?: unknown } = {},
  ) {
    super(description, options);
    this.error = reason === 'nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
  }
}

/** Where and when the proof was presented, and the verifier's policy. */
export interface DpopProofCheck {
  /** The request's method (`htm`, §4.3 item 8). */
  method: string;
  /** The request's URL as the client addressed it (`htu`, §4.3 item 9); query and fragment ignored. */
  url: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** Seconds after its `iat` a proof is still accepted (§4.3 item 11). */
  maxAgeSeconds: number;
  /** Seconds a proof's `iat` may lie in the future (the client's clock running ahead). */
  clockToleranceSeconds: number;
  /** Accepted algorithms, a subset of DPOP_ALGS (default all of them). */
  algorithms?: readonly DpopAlg[];
  /** The access token presented with the proof: its hash must be the proof's `ath` (§4.3 item 12). */
  accessToken?: string;
  /** Server-provided nonces (§8): when given, the proof must carry a current one. */
  nonces?: DpopNonces;
  /**
   * The single-use check (§11.1): records `key` (the proof key's thumbprint and the `jti`) until
   * `expiresAt`, false when it was already recorded.
   */
  useOnce?: (key: string, expiresAt: Date) => Promise<boolean> | boolean;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key, base64url (the token's `cnf.jkt`). */
  jkt: string;
  jti: string;
  iat: number;
  /** The nonce the proof carried, when it is not the current one any more (hand out the next). */
  staleNonce: boolean;
}

/** `ath`: base64url SHA-256 of the access token's ASCII text (§4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** RFC 7638 thumbprint of a public JWK (SHA-256, base64url). */
export function jwkThumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** An empty signature is let through to be refused by name (alg none), not as malformed. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** A proof is a few hundred bytes (an RSA key makes it about a kilobyte); this bounds the work. */
const MAX_PROOF_LENGTH = 8 * 1024;

/**
 * Verifies the DPoP header values of one request (§4.3). `values` are the header's values as
 * received (each repetition separately, when the framework keeps them apart).
 */
export async function verifyDpopProof(
  values: readonly string[] | string | undefined,
  check: DpopProofCheck,
): Promise<VerifiedDpopProof> {
  const proof = singleProof(values);
  const header = proofHeader(proof, check.algorithms ?? DPOP_ALGS);
  let payload: JWTPayload;
  const keyId = proofKeyId(header.alg, header.jwk);
  let key = knownProofKey(keyId);
  try {
    // §4.3 items 4-7: typ, the allowed algorithms (pinned) and the signature over the embedded
    // key (imported as jose's EmbeddedJWK does; dpop-keys.ts remembers it for the next proofs).
    const publicKey = key?.key ?? (await importProofKey(header.alg, header.jwk));
    ({ payload } = await jwtVerify(proof, publicKey, {
      typ: 'dpop+jwt',
      algorithms: [header.alg],
      currentDate: new Date(check.now),
    }));
    key ??= await rememberProofKey(keyId, publicKey, header.jwk);
  } catch (err) {
    throw joseFailure(err);
  }
  const claims = proofClaims(payload);
  const nowSeconds = check.now / 1000;
  // §4.3 items 8-9: the proof was made for this very request.
  if (claims.htm !== check.method)
    throw new DpopProofError('htm', 'The DPoP proof htm does not match the request method');
  if (!sameTarget(claims.htu, check.url))
    throw new DpopProofError('htu', 'The DPoP proof htu does not match the request URL');
  // §4.3 item 11: recent, and not from the future beyond the tolerated clock difference.
  if (
    claims.iat > nowSeconds + check.clockToleranceSeconds ||
    claims.iat < nowSeconds - check.maxAgeSeconds
  )
    throw new DpopProofError('iat', 'The DPoP proof iat is outside the accepted window');
  // §4.3 item 12: bound to the access token it accompanies.
  if (check.accessToken !== undefined && claims.ath !== accessTokenHash(check.accessToken))
    throw new DpopProofError('ath', 'The DPoP proof ath does not match the access token');
  let staleNonce = false;
  if (check.nonces) {
    // §4.3 item 10 and §8: a nonce this server (or its peer instance) handed out recently.
    const fresh = claims.nonce === undefined ? false : check.nonces.accepts(claims.nonce);
    if (!fresh)
      throw new DpopProofError(
        'nonce',
        claims.nonce === undefined
          ? 'The DPoP proof must carry a nonce from the DPoP-Nonce header'
          : 'The DPoP proof nonce is not current',
      );
    staleNonce = fresh === 'previous';
  }
  const { jkt } = key;
  if (check.useOnce) {
    // §11.1: a proof is used once. Its record outlives the time it would be accepted at all.
    const expiresAt = new Date((claims.iat + check.maxAgeSeconds + 1) * 1000);
    if (!(await check.useOnce(`${jkt}:${claims.jti}`, expiresAt)))
      throw new DpopProofError('replay', 'The DPoP proof has already been used (jti)');
  }
  return { jkt, jti: claims.jti, iat: claims.iat, staleNonce };
}

/** §4.3 items 1-2: exactly one DPoP header, holding one compact JWS. */
function singleProof(values: readonly string[] | string | undefined): string {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  if (list.length === 0) throw new DpopProofError('missing', 'A DPoP proof is required');
  // A JWS holds no comma, so a comma means a repeated header joined by the HTTP stack.
  if (list.length > 1 || list[0]!.includes(','))
    throw new DpopProofError('multiple', 'Send exactly one DPoP header');
  const proof = list[0]!.trim();
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof))
    throw new DpopProofError('malformed', 'The DPoP header is not a signed JWT');
  return proof;
}

/** §4.3 items 4, 5 and 7 on the header, before any key work: typ, alg, a public `jwk`. */
function proofHeader(proof: string, algorithms: readonly DpopAlg[]): { alg: DpopAlg; jwk: JWK } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch (err) {
    throw new DpopProofError('malformed', 'The DPoP proof header cannot be decoded', {
      cause: err,
    });
  }
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt')
    throw new DpopProofError('typ', 'The DPoP proof typ must be dpop+jwt');
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg as DpopAlg))
    throw new DpopProofError('alg', `The DPoP proof alg must be one of ${algorithms.join(', ')}`);
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new DpopProofError('jwk', 'The DPoP proof header must carry the public key (jwk)');
  if (PRIVATE_MEMBERS.some((m) => m in jwk))
    throw new DpopProofError('private_key', 'The DPoP proof jwk must not contain a private key');
  return { alg: header.alg as DpopAlg, jwk };
}

function joseFailure(err: unknown): DpopProofError {
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new DpopProofError('signature', 'The DPoP proof signature is invalid', { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired)
    return new DpopProofError('claims', `The DPoP proof claim ${err.claim} is invalid`, {
      cause: err,
    });
  // EmbeddedJWK's refusals: not a usable public key for the algorithm.
  return new DpopProofError('jwk', 'The DPoP proof jwk is not a public key for its alg', {
    cause: err,
  });
}

interface ProofClaims {
  jti: string;
  htm: string;
  htu: string;
  iat: number;
  ath?: string;
  nonce?: string;
}

/** §4.2: the required claims and their types. */
function proofClaims(p: JWTPayload): ProofClaims {
  const text = (v: unknown, max: number) =>
    typeof v === 'string' && v.length > 0 && v.length <= max;
  if (!text(p.jti, 256) || !text(p.htm, 16) || !text(p.htu, 2048))
    throw new DpopProofError('claims', 'The DPoP proof must carry jti, htm and htu');
  if (typeof p.iat !== 'number' || !Number.isFinite(p.iat))
    throw new DpopProofError('claims', 'The DPoP proof must carry a numeric iat');
  if (p.ath !== undefined && typeof p.ath !== 'string')
    throw new DpopProofError('claims', 'The DPoP proof ath must be a string');
  if (p.nonce !== undefined && !text(p.nonce, 512))
    throw new DpopProofError('claims', 'The DPoP proof nonce must be a string');
  return p as unknown as ProofClaims;
}

/**
 * §4.3 item 9: `htu` names the request's URI, without query and fragment, compared after
 * RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based normalisation (case of scheme and host,
 * default port, dot segments — all done by the URL parser — and percent-encoding).
 */
export function sameTarget(htu: string, requestUrl: string): boolean {
  const a = normalisedTarget(htu);
  return a !== null && a === normalisedTarget(requestUrl);
}

function normalisedTarget(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  // §6.2.2.1-2: percent-encodings in upper case, unreserved characters decoded.
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}
