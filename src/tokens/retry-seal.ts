/**
 * The sealed successor of a rotated refresh token (the refresh grant's retry window).
 *
 * A rotation keeps the successor's plaintext for REFRESH_REUSE_GRACE_SECONDS so that a retry
 * with the rotated token can be handed the same successor again. The plaintext is sealed with
 * AES-256-GCM under a key derived (HKDF-SHA-256, RFC 5869) from the *rotated* token, which the
 * server never stores (only its SHA-256). Whoever can open the seal therefore already holds the
 * rotated token: a database dump, a backup or a read-only SQL injection yields sealed bytes and
 * hashes, from which no refresh is possible. The token is 256 random bits, so HKDF needs no
 * salt and no work factor (RFC 5869 §3.1), and the key used for one seal is never used again
 * (a token rotates once).
 *
 * The associated data binds a seal to its place: the rotated token's hash and the successor's
 * row id, so a seal moved to another row or pointed at another successor does not open.
 */
import { hkdfSync } from 'node:crypto';
import { aesGcmOpen, aesGcmSeal } from '../shared/crypto';

/** HKDF `info`: a purpose label, so this key is never the key of anything else. */
const PURPOSE = 'tessera/refresh-token/retry-seal/v1';

function sealKey(rotatedToken: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(rotatedToken, 'utf8'), Buffer.alloc(0), PURPOSE, 32),
  );
}

function associatedData(rotatedTokenHash: string, successorId: string): string {
  return `${PURPOSE}|${rotatedTokenHash}|${successorId}`;
}

/** Seals `successor` (plaintext) for the retry window of `rotatedToken` (plaintext). */
export function sealSuccessor(
  rotatedToken: string,
  rotatedTokenHash: string,
  successorId: string,
  successor: string,
): Buffer {
  return aesGcmSeal(
    sealKey(rotatedToken),
    associatedData(rotatedTokenHash, successorId),
    Buffer.from(successor, 'utf8'),
  );
}

/** The successor's plaintext, or null when the seal does not open with this token and place. */
export function openSuccessor(
  rotatedToken: string,
  rotatedTokenHash: string,
  successorId: string,
  sealed: Buffer,
): string | null {
  const plaintext = aesGcmOpen(
    sealKey(rotatedToken),
    associatedData(rotatedTokenHash, successorId),
    sealed,
  );
  return plaintext ? plaintext.toString('utf8') : null;
}
