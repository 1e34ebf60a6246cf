/**
 * Opaque single-use values (refresh tokens): 32 random bytes (256 bits, RFC 9700 §4.14 /
 * RFC 6749 §10.10), base64url; only their SHA-256 is ever stored, so a database leak yields
 * nothing usable.
 */
import { randomToken, sha256 } from '../shared/crypto';

export interface OpaqueToken {
  /** Goes to the client once; never stored, never logged. */
  value: string;
  /** SHA-256 (base64url) of `value`: what the database keeps and looks up. */
  hash: string;
}

export function newOpaqueToken(): OpaqueToken {
  const value = randomToken(32);
  return { value, hash: sha256(value) };
}

export function hashOpaqueToken(value: string): string {
  return sha256(value);
}
