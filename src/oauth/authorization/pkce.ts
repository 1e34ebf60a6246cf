/**
 * PKCE (RFC 7636). Only S256 is accepted: `plain` protects nothing once the request leaks
 * (RFC 9700 §2.1.1), and a challenge without a method would mean `plain` (RFC 7636 §4.3).
 */
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../../shared/crypto';

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** BASE64URL(SHA-256(verifier)) is always 43 characters without padding. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Why a challenge is refused, or null when it is acceptable. */
export function checkChallenge(
  challenge: string | undefined,
  method: string | undefined,
): string | null {
  if (challenge === undefined)
    return method === undefined ? null : 'code_challenge_method given without code_challenge';
  if (method === undefined) return 'code_challenge_method is required and must be S256';
  if (method !== 'S256') return 'code_challenge_method must be S256 (plain is not supported)';
  if (!S256_CHALLENGE.test(challenge))
    return 'code_challenge must be 43 base64url characters (S256)';
  return null;
}

/** RFC 7636 §4.6: the verifier must hash to the stored challenge (compared in constant time). */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  return constantTimeEqual(
    createHash('sha256').update(verifier, 'ascii').digest('base64url'),
    challenge,
  );
}
