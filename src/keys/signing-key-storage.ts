/**
 * Signing keys as stored (their lifecycle states and the encrypted private part) and the
 * repository the key store and the rotation lifecycle use.
 */
import type { SigningAlg } from './algorithms';

export type KeyState = 'next' | 'active' | 'retiring' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlg;
  state: KeyState;
  publicJwk: Record<string, string>;
  /** iv || ciphertext || tag; null once retired (private part destroyed). */
  privateKeyCipher: Buffer | null;
  kekId: string | null;
  createdAt: Date;
  publishedAt: Date;
  activatedAt: Date | null;
  retiringAt: Date | null;
  retireAfter: Date | null;
  retiredAt: Date | null;
  updatedAt: Date;
}

export type NewSigningKey = Omit<SigningKeyRecord, 'createdAt' | 'updatedAt'>;

export type SigningKeyPatch = Partial<
  Pick<
    SigningKeyRecord,
    | 'state'
    | 'privateKeyCipher'
    | 'kekId'
    | 'activatedAt'
    | 'retiringAt'
    | 'retireAfter'
    | 'retiredAt'
  >
>;

/** Operations on signing keys inside one transaction holding the key-store lock. */
export interface SigningKeyTx {
  list(): Promise<SigningKeyRecord[]>;
  insert(key: NewSigningKey): Promise<void>;
  /** Updates a key only if it is still in state `from`; returns whether it was. */
  transition(kid: string, from: KeyState, patch: SigningKeyPatch): Promise<boolean>;
  update(kid: string, patch: SigningKeyPatch): Promise<void>;
}

export interface SigningKeyRepository {
  /** Every key that is not retired (published in the JWKS, or the active signer). */
  listPublished(): Promise<SigningKeyRecord[]>;
  listAll(): Promise<SigningKeyRecord[]>;
  /** A cheap token that changes whenever any key changes (for polling refresh). */
  version(): Promise<string>;
  /**
   * Runs `fn` in one transaction under a PostgreSQL advisory transaction lock, so concurrent
   * rotations (script, other instances) serialise; all or nothing.
   */
  locked<T>(fn: (tx: SigningKeyTx) => Promise<T>): Promise<T>;
  /** Like `locked`, but returns null at once when another holder has the lock. */
  tryLocked<T>(fn: (tx: SigningKeyTx) => Promise<T>): Promise<T | null>;
}
