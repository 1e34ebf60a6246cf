/**
 * A signing-key table row for the KeyStore tests that read their keys from an in-memory
 * repository (key-store-verify.test.ts, verified-cache.test.ts): the private JWK sealed under `kek` (kid as
 * associated data), published an hour before `nowSeconds`, activated then if active.
 */
import type { JWK } from 'jose';
import { seal, type Kek } from '../../src/keys/envelope';
import type { KeyState, SigningKeyRecord } from '../../src/keys/signing-key-storage';
import type { SigningAlg } from '../../src/keys/algorithms';

export function keyRow(
  key: { kid: string; alg: SigningAlg; publicJwk: JWK; privateJwk: JWK },
  state: KeyState,
  kek: Kek,
  nowSeconds: number,
): SigningKeyRecord {
  const at = new Date((nowSeconds - 3600) * 1000);
  return {
    kid: key.kid,
    alg: key.alg,
    state,
    publicJwk: key.publicJwk as Record<string, string>,
    privateKeyCipher: seal(kek, key.kid, Buffer.from(JSON.stringify(key.privateJwk), 'utf8')),
    kekId: kek.id,
    createdAt: at,
    publishedAt: at,
    activatedAt: state === 'active' ? at : null,
    retiringAt: null,
    retireAfter: null,
    retiredAt: null,
    updatedAt: at,
  };
}
