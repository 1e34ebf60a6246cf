/**
 * The in-memory view of the signing keys every token minter and verifier uses.
 *
 * Keys live in PostgreSQL (shared by every instance); this store loads the published ones,
 * decrypts the active private keys, serves the JWKS from memory, and reloads whenever the
 * table changes (polled every KEY_REFRESH_INTERVAL), so a rotation made by the script or by
 * another instance is picked up without a restart.
 */
import { createHash } from 'node:crypto';
import { decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters, type JWTPayload, type KeyObject } from 'jose';
import type { SigningAlg, SigningKeyRecord, SigningKeyRepository } from '../persistence/types';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { open, type Kek } from './envelope';

type Key = CryptoKey | KeyObject;

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
  clockToleranceSeconds: number;
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

/** Header parameters that would let a token choose its own verification key (RFC 8725 §3.10). */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

export interface KeyStoreOptions {
  repo: SigningKeyRepository;
  keks: readonly Kek[];
  algs: readonly SigningAlg[];
  refreshIntervalSeconds: number;
  clock: Clock;
  log: Logger;
}

export class KeyStore {
  private published = new Map<string, PublishedKey>();
  private active = new Map<SigningAlg, ActiveKey>();
  private jwksDoc: JwksDocument = { body: '{"keys":[]}', etag: etagOf('{"keys":[]}') };
  private version = '';
  private timer: NodeJS.Timeout | undefined;
  private loadedAt: Date | undefined;

  constructor(private readonly options: KeyStoreOptions) {}

  /** Loads the keys; throws KekError when an active key cannot be decrypted. */
  async load(): Promise<void> {
    const version = await this.options.repo.version();
    const rows = await this.options.repo.listPublished();
    const published = new Map<string, PublishedKey>();
    const active = new Map<SigningAlg, ActiveKey>();
    for (const row of rows) {
      published.set(row.kid, { kid: row.kid, alg: row.alg, state: row.state, publicKey: (await importJWK(row.publicJwk, row.alg)) as Key });
      if (row.state === 'active' && this.options.algs.includes(row.alg)) {
        if (!row.privateKeyCipher) throw new Error(`active key ${row.kid} has no private part`);
        const reused = this.active.get(row.alg);
        const privateKey =
          reused?.kid === row.kid ? reused.privateKey : ((await importJWK(JSON.parse(open(this.options.keks, row.kekId, row.kid, row.privateKeyCipher).toString('utf8')) as JWK, row.alg)) as Key);
        const current = active.get(row.alg);
        // Should two be active (never, by the lifecycle's rules), sign with the newest.
        if (!current || (row.activatedAt ?? row.publishedAt) >= (rows.find((r) => r.kid === current.kid)?.activatedAt ?? new Date(0))) {
          active.set(row.alg, { kid: row.kid, alg: row.alg, privateKey });
        }
      }
    }
    const keys = rows.map((r) => ({ ...r.publicJwk, kid: r.kid, use: 'sig', alg: r.alg }));
    const body = JSON.stringify({ keys });
    this.published = published;
    this.active = active;
    this.jwksDoc = { body, etag: etagOf(body) };
    this.version = version;
    this.loadedAt = this.options.clock.now();
  }

  /** Reloads only when the table changed since the last load. */
  async refresh(): Promise<boolean> {
    const version = await this.options.repo.version();
    if (version === this.version) return false;
    await this.load();
    this.options.log.info({ kids: [...this.published.keys()] }, 'signing keys reloaded');
    return true;
  }

  /** Polls for changes every KEY_REFRESH_INTERVAL; a failed poll keeps the current keys. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch((err) => this.options.log.warn({ err: { message: (err as Error).message } }, 'signing key refresh failed; keeping current keys'));
    }, this.options.refreshIntervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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

  /** Signs `payload` with the active key for `alg`, setting `alg`, `kid` and `typ`. */
  async sign(alg: SigningAlg, typ: string, payload: JWTPayload): Promise<string> {
    const key = this.active.get(alg);
    if (!key) throw new Error(`no active ${alg} signing key`);
    return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid, typ }).sign(key.privateKey);
  }

  /**
   * Verifies a JWT issued by this server. The key is resolved by `kid` among the published
   * keys and the algorithm is pinned to that key's — never taken from the token alone
   * (RFC 8725 §3.1). Tokens naming their own key (jku, x5u, jwk, x5c) are refused.
   */
  async verify(token: string, options: VerifyOptions): Promise<VerifiedJwt> {
    let header: JWTHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWTHeaderParameters;
    } catch {
      throw new TokenVerificationError('malformed', 'token is not a JWS compact serialization');
    }
    if (token.split('.').length !== 3) throw new TokenVerificationError('malformed', 'token is not a JWS compact serialization');
    for (const h of FORBIDDEN_HEADERS) {
      if (h in header) throw new TokenVerificationError('forbidden_header', `token header carries "${h}"`);
    }
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const key = kid ? this.published.get(kid) : undefined;
    if (!kid || !key) throw new TokenVerificationError('unknown_kid', 'token is signed with an unknown or retired key');
    if (header.alg !== key.alg) throw new TokenVerificationError('alg_mismatch', `token alg ${String(header.alg)} does not match key ${kid} (${key.alg})`);
    if (typeof header.typ !== 'string' || !sameTyp(header.typ, options.typ)) {
      throw new TokenVerificationError('typ_mismatch', `token typ is ${String(header.typ)}, expected ${options.typ}`);
    }
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        issuer: options.issuer,
        ...(options.audience === undefined ? {} : { audience: options.audience }),
        clockTolerance: options.clockToleranceSeconds,
        currentDate: options.currentDate ?? this.options.clock.now(),
        requiredClaims: ['exp', 'iat'],
      });
      return { payload, header, kid };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new TokenVerificationError('expired', 'token has expired');
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new TokenVerificationError('invalid_signature', 'signature verification failed');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw new TokenVerificationError('claim_invalid', (err as Error).message);
      throw new TokenVerificationError('malformed', (err as Error).message);
    }
  }
}

function sameTyp(actual: string, expected: string): boolean {
  const norm = (t: string) => t.toLowerCase().replace(/^application\//, '');
  return norm(actual) === norm(expected);
}

function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}
