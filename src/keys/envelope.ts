/**
 * Envelope encryption of private signing keys: AES-256-GCM under a key-encryption key (KEK),
 * with the key's `kid` bound as associated data so a ciphertext cannot be moved to another key
 * row. Several KEKs may be configured; the first encrypts, any may decrypt (KEK rotation).
 */
import { createHash } from 'node:crypto';
import { aesGcmOpen, aesGcmSeal } from '../shared/crypto';

export interface Kek {
  /** Public fingerprint of the KEK (stored beside each ciphertext); reveals nothing about it. */
  readonly id: string;
  readonly key: Buffer;
}

export class KekError extends Error {
  override name = 'KekError';
}

/** Parses `KEY_ENCRYPTION_KEY`: comma-separated base64 encodings of 32 random bytes. */
export function parseKeks(value: string, source = 'KEY_ENCRYPTION_KEY'): Kek[] {
  const keks = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((b64, i) => {
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64))
        throw new KekError(`${source}: entry ${i + 1} is not base64`);
      const key = Buffer.from(b64, 'base64');
      if (key.length !== 32)
        throw new KekError(
          `${source}: entry ${i + 1} must decode to 32 bytes (openssl rand -base64 32), got ${key.length}`,
        );
      return { id: kekFingerprint(key), key };
    });
  if (!keks.length) throw new KekError(`${source}: no key given`);
  return keks;
}

export function kekFingerprint(key: Buffer): string {
  return createHash('sha256').update('tessera-kek-id').update(key).digest('base64url').slice(0, 16);
}

export function seal(kek: Kek, kid: string, plaintext: Buffer): Buffer {
  return aesGcmSeal(kek.key, kid, plaintext);
}

/** Throws KekError when no configured KEK opens the ciphertext. */
export function open(
  keks: readonly Kek[],
  kekId: string | null,
  kid: string,
  sealed: Buffer,
): Buffer {
  const candidates = kekId ? keks.filter((k) => k.id === kekId) : keks;
  if (!candidates.length) {
    throw new KekError(
      `signing key ${kid} was encrypted with key-encryption key ${kekId}, which is not configured in KEY_ENCRYPTION_KEY`,
    );
  }
  for (const kek of candidates) {
    const plaintext = aesGcmOpen(kek.key, kid, sealed);
    if (plaintext) return plaintext;
  }
  throw new KekError(
    `signing key ${kid} cannot be decrypted with the configured KEY_ENCRYPTION_KEY`,
  );
}
