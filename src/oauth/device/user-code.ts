/**
 * User codes (RFC 8628 §6.1): 8 characters from a 20-letter alphabet of consonants only — no
 * vowels, so no words, and no letters easily mistaken for digits (no I, O, U, Y) — shown as
 * XXXX-XXXX. 20^8 ≈ 2^34.6 codes: on its own too few to withstand guessing, which is why
 * wrong codes are rate-limited per IP (device/verification.ts) and a code lives only
 * DEVICE_CODE_TTL seconds (§5.1).
 *
 * What a user types is accepted in any case, with or without the hyphen and with spaces
 * (§6.1: "the server SHOULD ignore any characters like punctuation that are not in the
 * character set"): it is normalised before it is hashed or compared.
 */
import { randomInt } from 'node:crypto';
import { sha256 } from '../../shared/crypto';

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A fresh random user code, normalised (no hyphen). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++)
    code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/**
 * The code as typed, upper-cased, without hyphens, spaces or other punctuation; null when what
 * is left is not 8 letters of the alphabet (then it cannot be any code).
 */
export function normalizeUserCode(input: string): string | null {
  const letters = input
    .slice(0, 64)
    .toUpperCase()
    .replace(/[\s\-_.]/g, '');
  if (letters.length !== USER_CODE_LENGTH) return null;
  for (const c of letters) if (!USER_CODE_ALPHABET.includes(c)) return null;
  return letters;
}

/** XXXX-XXXX, as shown to the user and in verification_uri_complete. */
export function formatUserCode(normalized: string): string {
  return `${normalized.slice(0, 4)}-${normalized.slice(4)}`;
}

/** What storage keeps of a normalised code. */
export function userCodeHash(normalized: string): string {
  return sha256(`user_code:${normalized}`);
}
