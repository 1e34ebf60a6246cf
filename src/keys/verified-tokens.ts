/**
 * The tokens whose signature a KeyStore checked, by their exact text: the same bytes under the
 * same key always verify the same, and resource servers present the same token again and
 * again (introspection, userinfo), where the signature and the decoding were most of the
 * work. A hit skips exactly those; `typ` and the claims (issuer, audience, times) are checked
 * on every call against that call's options, with jose's rules (UnsecuredJWT.decode of the
 * same payload bytes). An entry counts only while its key object is still the one published
 * under its kid, so a retired key's tokens fail at once and
 * a key whose state changed is checked again. Only validly signed tokens get in (garbage
 * cannot fill it); the oldest entry makes room. Shared by every verifier of the process.
 */
import {
  base64url,
  UnsecuredJWT,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';

/** How many signature-checked tokens the store remembers (a few MB at most). */
export const VERIFIED_CACHE_SIZE = 2048;

/** A token whose signature was checked, with the key that checked it. */
export interface CheckedToken<K> {
  key: K;
  header: JWTHeaderParameters;
  /** `{"alg":"none"}`, the token's payload segment and no signature: what UnsecuredJWT.decode checks. */
  unsigned: string;
}

const NONE_HEADER = base64url.encode('{"alg":"none"}');

export class VerifiedTokens<K> {
  private readonly entries = new Map<string, CheckedToken<K>>();

  /** `isCurrent(key)`: the key is still the one published under its kid. */
  constructor(private readonly isCurrent: (key: K) => boolean) {}

  /** The token's earlier check, while its key is still current. */
  get(token: string): CheckedToken<K> | undefined {
    const hit = this.entries.get(token);
    return hit && this.isCurrent(hit.key) ? hit : undefined;
  }

  /** Remembers a token whose signature `key` just verified; the oldest entry makes room. */
  remember(token: string, key: K, header: JWTHeaderParameters): CheckedToken<K> {
    // Frozen: every later caller of the same token gets this same header object.
    const checked: CheckedToken<K> = {
      key,
      header: deepFreeze(header),
      unsigned: `${NONE_HEADER}.${token.split('.')[1]!}.`,
    };
    if (this.entries.size >= VERIFIED_CACHE_SIZE)
      this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, checked);
    return checked;
  }

  /** Forgets the tokens whose key is no longer current (they would miss anyway). */
  forgetStale(): void {
    for (const [token, checked] of this.entries)
      if (!this.isCurrent(checked.key)) this.entries.delete(token);
  }

  /** The payload of a remembered token, its claims checked by jose's rules for this call. */
  static payload<K>(hit: CheckedToken<K>, claimChecks: JWTVerifyOptions): JWTPayload {
    return UnsecuredJWT.decode(hit.unsigned, claimChecks).payload;
  }
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
