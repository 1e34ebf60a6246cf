import { KeyObject } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningAlg } from './algorithms';

/**
 * Imports a key once for jose. importJWK checks the JWK fits `alg` (RSA for RS256, EC P-256
 * for ES256); RSA's 2048-bit minimum (RFC 7518 §3.3), which jose checks only on use, and the
 * curve are checked here too, so a key that cannot sign fails the load, not the first token.
 */
export async function importKey(jwk: JWK, alg: SigningAlg, kid: string): Promise<CryptoKey> {
  const imported = await importJWK(jwk, alg);
  if (imported instanceof Uint8Array) throw new Error(`signing key ${kid} is not an ${alg} key`);
  const key = KeyObject.from(imported);
  const details = key.asymmetricKeyDetails;
  const fits =
    alg === 'ES256'
      ? key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1'
      : key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048;
  if (!fits) throw new Error(`signing key ${kid} is not a valid ${alg} key`);
  return imported;
}
