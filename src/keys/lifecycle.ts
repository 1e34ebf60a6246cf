/**
 * The signing-key lifecycle: next (published, not signing) → active (signs) → retiring
 * (published so its tokens keep verifying) → retired (unpublished, private part destroyed).
 */
import type { SigningAlg, SigningKeyTx } from '../persistence/types';
import { seal, type Kek } from './envelope';
import { generateSigningKey } from './generate';

/** Creates a key in `state`, sealed under the first (encrypting) KEK. */
export async function createKey(tx: SigningKeyTx, kek: Kek, alg: SigningAlg, state: 'next' | 'active', now: Date): Promise<string> {
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

/**
 * Makes sure every configured algorithm has an active key (and a next one). A new algorithm's
 * first key has no tokens to break, so it may sign at once. Algorithms that already have an
 * active key are left alone, even if it cannot be decrypted: the key store then refuses to
 * start rather than replace keys silently.
 */
export async function ensureSigningKeys(tx: SigningKeyTx, kek: Kek, algs: readonly SigningAlg[], now: Date): Promise<string[]> {
  const keys = await tx.list();
  const created: string[] = [];
  for (const alg of algs) {
    const mine = keys.filter((k) => k.alg === alg);
    if (!mine.some((k) => k.state === 'active')) created.push(await createKey(tx, kek, alg, 'active', now));
    if (!mine.some((k) => k.state === 'next')) created.push(await createKey(tx, kek, alg, 'next', now));
  }
  return created;
}
