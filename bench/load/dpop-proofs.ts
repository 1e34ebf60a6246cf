/**
 * DPoP proofs for the load generator (RFC 9449 §4.2): a fresh proof per request — its own
 * `jti` and the current `iat`, as a real client sends — signed ES256 with node:crypto over a
 * header encoded once. Making one costs the generator a single ECDSA signature, so the
 * server's side (full verification, the single-use record in the database) is what the
 * scenario measures; the generator's CPU is reported beside it.
 */
import { createPrivateKey, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto';

/** An ES256 key pair as JWKs (the load spec crosses to the generator process as JSON). */
export interface DpopProofKey {
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
}

export class DpopProofMaker {
  private readonly key: KeyObject;
  private readonly header: string;
  private readonly prefix = randomBytes(9).toString('base64url');
  private counter = 0;

  constructor(
    key: DpopProofKey,
    private readonly htm: string,
    private readonly htu: string,
  ) {
    this.key = createPrivateKey({ key: key.privateJwk, format: 'jwk' });
    const { kty, crv, x, y } = key.publicJwk;
    this.header = b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }));
  }

  /** A proof no request has carried before. */
  next(): string {
    const payload = b64(
      JSON.stringify({
        jti: `${this.prefix}${(this.counter++).toString(36)}`,
        htm: this.htm,
        htu: this.htu,
        iat: Math.floor(Date.now() / 1000),
      }),
    );
    const input = `${this.header}.${payload}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: this.key,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${signature.toString('base64url')}`;
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
