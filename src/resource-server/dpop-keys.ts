/**
 * The public keys of recent DPoP proofs, imported, with their thumbprints, by the exact `jwk`
 * header they came in and the proof's `alg`. A DPoP client signs every proof with one key, so
 * its JWK is imported and its RFC 7638 thumbprint hashed once per key rather than per proof
 * (docs/performance.md, "DPoP proof-key cache"). The same members and alg always import to
 * the same key, so a hit changes nothing but the cost; the signature, the claims and everything
 * else are checked on every proof. Only keys that verified a proof get in, and the oldest entry
 * makes room, so garbage cannot grow it. Shared by the whole process.
 */
import {
  calculateJwkThumbprint,
  EmbeddedJWK,
  type CryptoKey,
  type JWK,
  type KeyObject,
} from 'jose';

export interface ProofKey {
  key: CryptoKey | KeyObject;
  jkt: string;
}

/** How many proof keys are remembered (one per recent client key). */
export const PROOF_KEY_CACHE_SIZE = 1024;

const cache = new Map<string, ProofKey>();

/** The cache entry's name: the alg and the header's `jwk` exactly as received. */
export function proofKeyId(alg: string, jwk: JWK): string {
  return `${alg}.${JSON.stringify(jwk)}`;
}

/** A key already imported for these exact members and alg. */
export function knownProofKey(id: string): ProofKey | undefined {
  return cache.get(id);
}

/** Imports the header's key as jose's EmbeddedJWK does (a public key usable with `alg`, or it throws). */
export function importProofKey(alg: string, jwk: JWK): Promise<CryptoKey | KeyObject> {
  return EmbeddedJWK({ alg, jwk });
}

/** The thumbprint of a key that has just verified a proof, remembered for the next proofs. */
export async function rememberProofKey(
  id: string,
  key: CryptoKey | KeyObject,
  jwk: JWK,
): Promise<ProofKey> {
  const entry = { key, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
  if (cache.size >= PROOF_KEY_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(id, entry);
  return entry;
}
