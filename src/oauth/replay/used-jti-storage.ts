/**
 * Single use of a JWT's identifier: client assertions (RFC 7523 §3 item 7) and DPoP proofs
 * (RFC 9449 §11.1) are accepted once each. The store is shared by every instance on the
 * database, so a replay to another instance is refused too; an entry lives until the JWT it
 * names could no longer be accepted anyway, then the purge job drops it.
 */

/** What a single-use identifier is unique within. */
export type JtiKind = 'client_assertion' | 'dpop_proof' | 'request_object';

export interface UsedJtiRepository {
  /**
   * Records `key` (e.g. the issuer and its jti) as used until `expiresAt`: true the first time,
   * false when it was already recorded and has not expired. Atomic across instances.
   */
  useOnce(kind: JtiKind, key: string, expiresAt: Date): Promise<boolean>;
}
