/**
 * The in-memory view of the signing keys every token minter and verifier uses.
 *
 * Keys live in PostgreSQL (shared by every instance); this store loads the published ones,
 * decrypts the active private keys, serves the JWKS from memory, and reloads whenever the
 * table changes (polled every KEY_REFRESH_INTERVAL), so a rotation made by the script or by
 * another instance is picked up without a restart.
 */
import { createHash, KeyObject } from 'node:crypto';
import { importJWK, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';
import type { SigningAlg } from './algorithms';
import type { SigningKeyRecord, SigningKeyRepository } from './signing-key-storage';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Kek } from './envelope';
import { publicOnly } from './generate';
import { FORBIDDEN_HEADERS } from '../resource-server/verify';
import { checkClaims, JwsError, parseCompact, signCompact, verifyCompact } from './jws';
import { openPrivateJwk } from './lifecycle';

/** node:crypto keys: signing and verifying go through ./jws.ts, not jose (see there why). */
type Key = KeyObject;

interface PublishedKey {
  kid: string;
  alg: SigningAlg;
  state: SigningKeyRecord['state'];
  publicKey: Key;
}

interface ActiveKey {
  kid: string;
  alg: SigningAlg;
  privateKey: Key;
}

export interface JwksDocument {
  /** Serialised `{"keys":[...]}`. */
  body: string;
  /** Strong ETag of `body`. */
  etag: string;
}

export interface VerifyOptions {
  /** Required `typ` header (e.g. `at+jwt`, `JWT`); compared case-insensitively per RFC 8725. */
  typ: string;
  issuer: string;
  audience?: string | string[];
  /** Tolerance for `nbf` and, unless expToleranceSeconds is given, `exp`. */
  clockToleranceSeconds: number;
  /** Tolerance for `exp` alone (0 for the issuer's own access tokens: tokens/access-token-expiry.ts). */
  expToleranceSeconds?: number;
  /** Verify as of this time (defaults to the store's clock). */
  currentDate?: Date;
}

export interface VerifiedJwt {
  payload: JWTPayload;
  header: JWTHeaderParameters;
  kid: string;
}

/** Why a token failed verification; `code` is stable for tests and the token inspector. */
export class TokenVerificationError extends Error {
  override name = 'TokenVerificationError';
  constructor(
    readonly code: 'malformed' | 'unknown_kid' | 'alg_mismatch' | 'forbidden_header' | 'invalid_signature' | 'expired' | 'claim_invalid' | 'typ_mismatch',
    message: string,
  ) {
    super(message);
  }
}


export interface KeyStoreOptions {
  repo: SigningKeyRepository;
  keks: readonly Kek[];
  algs: readonly SigningAlg[];
  refreshIntervalSeconds: number;
  clock: Clock;
  log: Logger;
}

/** How many signature-checked tokens the store remembers (a few MB at most). */
export const VERIFIED_CACHE_SIZE = 2048;

/** A token whose signature was checked, with the key that checked it (see KeyStore.verified). */
interface CheckedToken {
  key: PublishedKey;
  header: JWTHeaderParameters;
  payload: JWTPayload;
}

export class KeyStore {
  private published = new Map<string, PublishedKey>();
  /**
   * Tokens whose signature this store checked, by their exact text: the same bytes under the
   * same key always verify the same, and resource servers present the same token again and
   * again (introspection, userinfo), where the signature and the decoding were most of the
   * work. A hit skips exactly those; `typ` and the claims (issuer, audience, times) are
   * checked on every call against that call's options. An entry counts only while its key
   * object is still the one published under its kid, so a retired key's tokens fail at once and
   * a key whose state changed is checked again. Only validly signed tokens get in (garbage
   * cannot fill it); the oldest entry makes room. Shared by every verifier of the process.
   */
  private verified = new Map<string, CheckedToken>();
  private checks = 0;
  private active = new Map<SigningAlg, ActiveKey & { since?: number }>();
  /** Decrypted private keys of the active and next keys, by kid. */
  private privateKeys = new Map<string, Key>();
  private queue: Promise<unknown> = Promise.resolve();
  private jwksDoc: JwksDocument = { body: '{"keys":[]}', etag: etagOf('{"keys":[]}') };
  private version = '';
  private timer: NodeJS.Timeout | undefined;
  private loadedAt: Date | undefined;

  constructor(private readonly options: KeyStoreOptions) {}

  /**
   * Loads the published keys and decrypts the private parts of the active and next keys (the
   * next one is ready the moment it is promoted); throws KekError when one cannot be decrypted.
   * Loads and refreshes run one at a time, so a slow older load never overwrites a newer one.
   */
  load(): Promise<void> {
    return this.serialised(() => this.loadNow());
  }

  /** Reloads only when the table changed since the last load. */
  refresh(): Promise<boolean> {
    return this.serialised(async () => {
      const version = await this.options.repo.version();
      if (version === this.version) return false;
      await this.loadNow();
      this.options.log.info({ kids: [...this.published.keys()] }, 'signing keys reloaded');
      return true;
    });
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private async loadNow(): Promise<void> {
    const version = await this.options.repo.version();
    const rows = await this.options.repo.listPublished();
    const published = new Map<string, PublishedKey>();
    const privateKeys = new Map<string, Key>();
    const active = new Map<SigningAlg, ActiveKey & { since: number }>();
    for (const row of rows) {
      // A key that did not change stays the same object (its checked tokens stay valid).
      const known = this.published.get(row.kid);
      published.set(row.kid, known && known.alg === row.alg && known.state === row.state ? known : { kid: row.kid, alg: row.alg, state: row.state, publicKey: await importKey(publicOnly(row.publicJwk), row.alg, row.kid) });
      if ((row.state !== 'active' && row.state !== 'next') || !this.options.algs.includes(row.alg)) continue;
      const privateKey = this.privateKeys.get(row.kid) ?? (await importKey(openPrivateJwk(this.options.keks, row), row.alg, row.kid));
      privateKeys.set(row.kid, privateKey);
      if (row.state !== 'active') continue;
      // Should two be active (never, by the lifecycle's rules), sign with the newest.
      const since = (row.activatedAt ?? row.publishedAt).getTime();
      if (since >= (active.get(row.alg)?.since ?? -Infinity)) active.set(row.alg, { kid: row.kid, alg: row.alg, privateKey, since });
    }
    // Only the public members, whatever the row holds (never d, p, q, dp, dq, qi, k).
    const keys = rows.map((r) => ({ ...publicOnly(r.publicJwk), kid: r.kid, use: 'sig', alg: r.alg }));
    const body = JSON.stringify({ keys });
    this.published = published;
    // Forget the tokens of keys that are no longer published as they were (they would miss anyway).
    for (const [token, checked] of this.verified) if (published.get(checked.key.kid) !== checked.key) this.verified.delete(token);
    this.privateKeys = privateKeys;
    this.active = active;
    this.jwksDoc = { body, etag: etagOf(body) };
    this.version = version;
    this.loadedAt = this.options.clock.now();
  }

  /** Polls for changes every KEY_REFRESH_INTERVAL; a failed poll keeps the current keys. */
  start(): void {
    if (this.timer) return;
    let polling = false;
    this.timer = setInterval(() => {
      // While the database is slow or down, polls must not pile up behind one another.
      if (polling) return;
      polling = true;
      this.refresh()
        .catch((err) => this.options.log.warn({ err: { message: (err as Error).message } }, 'signing key refresh failed; keeping current keys'))
        .finally(() => {
          polling = false;
        });
    }, this.options.refreshIntervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Signatures verify() actually checked (tokens it had not checked before), for tests and diagnostics. */
  get signatureChecks(): number {
    return this.checks;
  }

  /** Every configured algorithm has an active key. */
  isReady(): boolean {
    return this.options.algs.every((alg) => this.active.has(alg));
  }

  get lastLoadedAt(): Date | undefined {
    return this.loadedAt;
  }

  jwks(): JwksDocument {
    return this.jwksDoc;
  }

  activeKid(alg: SigningAlg): string | undefined {
    return this.active.get(alg)?.kid;
  }

  /** When the active key of `alg` was activated (for the key-age metric). */
  activeSince(alg: SigningAlg): Date | undefined {
    const since = this.active.get(alg)?.since;
    return since === undefined ? undefined : new Date(since);
  }

  /** Signs `payload` with the active key for `alg`, setting `alg`, `kid` and `typ`. */
  async sign(alg: SigningAlg, typ: string, payload: JWTPayload): Promise<string> {
    const key = this.active.get(alg);
    if (!key) throw new Error(`no active ${alg} signing key`);
    return signCompact(alg, key.privateKey, { alg, kid: key.kid, typ }, payload);
  }

  /**
   * Verifies a JWT issued by this server. The key is resolved by `kid` among the published
   * keys and the algorithm is pinned to that key's — never taken from the token alone
   * (RFC 8725 §3.1). Tokens naming their own key (jku, x5u, jwk, x5c) or carrying crit or b64
   * are refused: the list the resource-server toolkit refuses (FORBIDDEN_HEADERS). (jose refused
   * crit naming anything but b64, and b64: false under crit, with other error codes, reported as
   * 'malformed'; a crit or b64 header is now 'forbidden_header'.) Signature and claims:
   * ./jws.ts (claims with jose's semantics).
   */
  async verify(token: string, options: VerifyOptions): Promise<VerifiedJwt> {
    try {
      const { key, header, payload } = this.checkedBefore(token, options) ?? (await this.checkSignature(token, options));
      checkClaims(payload, {
        issuer: options.issuer,
        ...(options.audience === undefined ? {} : { audience: options.audience }),
        clockToleranceSeconds: options.clockToleranceSeconds,
        ...(options.expToleranceSeconds === undefined ? {} : { expToleranceSeconds: options.expToleranceSeconds }),
        currentDate: options.currentDate ?? this.options.clock.now(),
      });
      return { payload, header, kid: key.kid };
    } catch (err) {
      if (err instanceof JwsError) throw new TokenVerificationError(err.code, err.message);
      throw err;
    }
  }

  /** The token's earlier signature check, if its key is still the one published (see `verified`). */
  private checkedBefore(token: string, options: VerifyOptions): CheckedToken | undefined {
    const hit = this.verified.get(token);
    if (!hit || this.published.get(hit.key.kid) !== hit.key) return undefined;
    checkTyp(hit.header, options.typ);
    return hit;
  }

  private async checkSignature(token: string, options: VerifyOptions): Promise<CheckedToken> {
    // Three segments, the header strict base64url of a JSON object (else 'malformed').
    const jws = parseCompact(token);
    const header = jws.header as JWTHeaderParameters;
    for (const h of FORBIDDEN_HEADERS) {
      if (h in header) throw new TokenVerificationError('forbidden_header', `token header carries "${h}"`);
    }
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const key = kid ? this.published.get(kid) : undefined;
    if (!kid || !key) throw new TokenVerificationError('unknown_kid', 'token is signed with an unknown or retired key');
    // Also what keeps "none" and HS256 out: the key's alg is RS256 or ES256.
    if (header.alg !== key.alg) throw new TokenVerificationError('alg_mismatch', `token alg ${String(header.alg)} does not match key ${kid} (${key.alg})`);
    checkTyp(header, options.typ);
    this.checks++;
    const payload = (await verifyCompact(jws, key.alg, key.publicKey)) as JWTPayload;
    // Frozen: every later caller of the same token gets these same objects.
    const checked: CheckedToken = { key, header: deepFreeze(header), payload: deepFreeze(payload) };
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, checked);
    return checked;
  }
}

function checkTyp(header: JWTHeaderParameters, typ: string): void {
  if (typeof header.typ !== 'string' || !sameTyp(header.typ, typ)) {
    throw new TokenVerificationError('typ_mismatch', `token typ is ${String(header.typ)}, expected ${typ}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * jose's importJWK checks the JWK fits `alg` (RSA for RS256, EC P-256 for ES256); the
 * CryptoKey becomes a node:crypto KeyObject once, here. node:crypto signs with whatever key it
 * is given, so the checks jose made on every use are made here: the key type and curve, and
 * RSA's 2048-bit minimum (RFC 7518 §3.3).
 */
async function importKey(jwk: JWK, alg: SigningAlg, kid: string): Promise<Key> {
  const imported = await importJWK(jwk, alg);
  if (imported instanceof Uint8Array) throw new Error(`signing key ${kid} is not an ${alg} key`);
  const key = KeyObject.from(imported);
  const details = key.asymmetricKeyDetails;
  const fits = alg === 'ES256' ? key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1' : key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048;
  if (!fits) throw new Error(`signing key ${kid} is not a valid ${alg} key`);
  return key;
}

function sameTyp(actual: string, expected: string): boolean {
  const norm = (t: string) => t.toLowerCase().replace(/^application\//, '');
  return norm(actual) === norm(expected);
}

function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}
