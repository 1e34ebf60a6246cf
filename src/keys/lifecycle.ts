/**
 * The signing-key lifecycle's building blocks: next (published, not signing) → active (signs)
 * → retiring (published so its tokens keep verifying) → retired (unpublished, private part
 * destroyed). What to do when lives in ./plan.ts; ./rotation.ts applies it.
 */
import type { JWK } from 'jose';
import type { SigningAlg } from './algorithms';
import type { SigningKeyRecord, SigningKeyTx } from './signing-key-storage';
import { KekError, open, seal, type Kek } from './envelope';
import { generateSigningKey } from './generate';

/** Creates a key in `state`, sealed under the first (encrypting) KEK. Returns its kid. */
export async function createKey(
  tx: SigningKeyTx,
  kek: Kek,
  alg: SigningAlg,
  state: 'next' | 'active',
  now: Date,
): Promise<string> {
  const key = await generateSigningKey(alg);
  await tx.insert({
    kid: key.kid,
    alg,
    state,
    publicJwk: key.publicJwk as Record<string, string>,
    privateKeyCipher: seal(kek, key.kid, Buffer.from(JSON.stringify(key.privateJwk), 'utf8')),
    kekId: kek.id,
    publishedAt: now,
    activatedAt: state === 'active' ? now : null,
    retiringAt: null,
    retireAfter: null,
    retiredAt: null,
  });
  return key.kid;
}

/** Decrypts a key's private JWK; throws KekError when no configured KEK opens it. */
export function openPrivateJwk(keks: readonly Kek[], key: SigningKeyRecord): JWK {
  if (!key.privateKeyCipher)
    throw new KekError(`signing key ${key.kid} (${key.state}) has no private part`);
  return JSON.parse(open(keks, key.kekId, key.kid, key.privateKeyCipher).toString('utf8')) as JWK;
}

/**
 * Refuses to go on when a published key cannot be decrypted: start-up must fail loudly rather
 * than generate new signing keys over ones it cannot read (a wrong or missing
 * KEY_ENCRYPTION_KEY would otherwise silently replace every key and break every token).
 */
export function assertKeysOpen(keys: readonly SigningKeyRecord[], keks: readonly Kek[]): void {
  const unreadable = keys.filter((k) => {
    if (k.state === 'retired') return false;
    try {
      openPrivateJwk(keks, k);
      return false;
    } catch {
      return true;
    }
  });
  if (!unreadable.length) return;
  const kids = unreadable.map((k) => `${k.kid} (${k.alg}, ${k.state})`).join(', ');
  throw new KekError(
    `the configured key-encryption key cannot decrypt ${unreadable.length} existing signing key(s): ${kids}. ` +
      'Set KEY_ENCRYPTION_KEY to the key they were encrypted with (to change it, configure "new,old" and run `tessera keys reencrypt`). ' +
      'No signing keys were created or changed.',
  );
}
