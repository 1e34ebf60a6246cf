/**
 * The keys and algorithms a client signs with: the JWS algorithms accepted from clients and
 * what a client's JWK Set (RFC 7517 §5; RFC 7591 §2 `jwks`, or the document at `jwks_uri`)
 * must hold. Only public signing keys of a strength this server accepts: RSA of 2048 bits or
 * more, EC on P-256, Ed25519 (RFC 8725 §3.5: no weak keys). A private member (`d`, `p`, …,
 * or a symmetric `k`) means the client published its secret: refused, never stored.
 */
import { createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto';
import type { ClientJwks } from './client-storage';

/**
 * Asymmetric algorithms a client may sign with (private_key_jwt, and later request objects).
 * Ed25519 is RFC 9864's fully-specified name for EdDSA over Ed25519; both are accepted.
 */
export const CLIENT_KEY_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
export type ClientKeyAlg = (typeof CLIENT_KEY_ALGS)[number];

/** The MAC algorithm of client_secret_jwt (OIDC Core §9), keyed with the client secret. */
export const CLIENT_SECRET_ALGS = ['HS256'] as const;

/** Every algorithm a client authentication assertion may use; never `none`. */
export const CLIENT_AUTH_SIGNING_ALGS = [...CLIENT_KEY_ALGS, ...CLIENT_SECRET_ALGS] as const;
export type ClientAuthSigningAlg = (typeof CLIENT_AUTH_SIGNING_ALGS)[number];

/** Keys one client may register; a set is small, and a bigger one is a mistake or an attack. */
export const MAX_CLIENT_KEYS = 10;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Which key type and curve each algorithm needs (RFC 7518 §3, RFC 8037 §3.1). */
const KEY_TYPE_OF_ALG: Record<ClientKeyAlg, string> = {
  RS256: 'RSA',
  PS256: 'RSA',
  ES256: 'EC P-256',
  EdDSA: 'OKP Ed25519',
  Ed25519: 'OKP Ed25519',
};

/** What is wrong with one JWK as a client's public signing key; null when nothing is. */
export function publicJwkProblem(jwk: unknown): string | null {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'is not a JWK object';
  const k = jwk as Record<string, unknown>;
  const secret = PRIVATE_MEMBERS.find((name) => name in k);
  if (secret !== undefined)
    return `has the private member ${secret}: register public keys only (and replace this key, it is no longer secret)`;
  if (k.kid !== undefined && (typeof k.kid !== 'string' || !k.kid || k.kid.length > 200))
    return 'has a kid that is not a string of 1 to 200 characters';
  if (k.use !== undefined && k.use !== 'sig') return 'must have use "sig" (or none)';
  const type = k.kty === 'RSA' ? 'RSA' : `${String(k.kty)} ${String(k.crv)}`;
  if (!['RSA', 'EC P-256', 'OKP Ed25519'].includes(type))
    return 'must be an RSA key, an EC key on P-256 or an OKP Ed25519 key';
  if (k.alg !== undefined && KEY_TYPE_OF_ALG[k.alg as ClientKeyAlg] !== type)
    return `has alg ${JSON.stringify(k.alg)}, which is not a supported algorithm for a ${type} key (${CLIENT_KEY_ALGS.join(', ')})`;
  let details;
  try {
    details = createPublicKey({ key: k as NodeJwk, format: 'jwk' }).asymmetricKeyDetails;
  } catch {
    return 'is not a valid public key';
  }
  if (type === 'RSA' && (details?.modulusLength ?? 0) < 2048)
    return 'is an RSA key shorter than 2048 bits';
  return null;
}

/**
 * What is wrong with a JWK Set as a client's registered keys, one message per problem. With
 * several keys each needs a distinct `kid` (OIDC Core §10.1), so an assertion names its key.
 */
export function jwksProblems(jwks: ClientJwks): string[] {
  const problems: string[] = [];
  jwks.keys.forEach((jwk, i) => {
    const problem = publicJwkProblem(jwk);
    if (problem) problems.push(`keys[${i}] ${problem}`);
  });
  if (jwks.keys.length > 1) {
    const kids = jwks.keys.map((k) => k.kid);
    if (kids.some((kid) => typeof kid !== 'string'))
      problems.push('every key needs a kid when the set has several keys');
    else if (new Set(kids).size !== kids.length) problems.push('two keys have the same kid');
  }
  return problems;
}

/**
 * The usable signing keys of a JWK Set fetched from a client's `jwks_uri`: malformed, weak or
 * private keys are dropped (never trusted), so one bad key does not lock out the others.
 */
export function usablePublicKeys(document: unknown): ClientJwks | null {
  if (typeof document !== 'object' || document === null) return null;
  const keys = (document as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return null;
  return {
    keys: keys
      .slice(0, MAX_CLIENT_KEYS)
      .filter((k): k is Record<string, unknown> => publicJwkProblem(k) === null),
  };
}
