/**
 * The in-memory view of the signing keys every token minter and verifier uses.
 *
 * Keys live in PostgreSQL (shared by every instance); this store loads the published ones,
 * decrypts the active private keys, serves the JWKS from memory, and reloads whenever the
 * table changes (polled every KEY_REFRESH_INTERVAL), so a rotation made by the script or by
 * another instance is picked up without a restart.
 */
import { createHash } from 'node:crypto';
import {
  decodeProtectedHeader,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import type { SigningAlg } from './algorithms';
import type { SigningKeyRecord, SigningKeyRepository } from './signing-key-storage';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Kek } from './envelope';
import { publicOnly } from './generate';
import { importKey } from './import-key';
import { openPrivateJwk } from './lifecycle';
import { deepFreeze, VerifiedTokens, type CheckedToken } from './verified-tokens';
import {
  checkCompactShape,
  checkExp,
  checkForbiddenHeaders,
  checkTyp,
  claimOptions,
  fromJose,
  TokenVerificationError,
  type VerifiedJwt,
  type VerifyOptions,
} from './token-checks';

export { TokenVerificationError, type VerifiedJwt, type VerifyOptions } from './token-checks';
export { VERIFIED_CACHE_SIZE } from './verified-tokens';

/** Imported once per load (importJWK), then handed to jose as is on every sign and verify. */
type Key = CryptoKey;

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
  /** Tokens whose signature this store checked (./verified-tokens.ts). */
  private readonly verified = new VerifiedTokens<PublishedKey>(
    (key) => this.published.get(key.kid) === key,
  );
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
      published.set(
        row.kid,
        known && known.alg === row.alg && known.state === row.state
          ? known
          : {
              kid: row.kid,
              alg: row.alg,
              state: row.state,
              publicKey: await importKey(publicOnly(row.publicJwk), row.alg, row.kid),
            },
      );
      if ((row.state !== 'active' && row.state !== 'next') || !this.options.algs.includes(row.alg))
        continue;
      const privateKey =
        this.privateKeys.get(row.kid) ??
        (await importKey(openPrivateJwk(this.options.keks, row), row.alg, row.kid));
      privateKeys.set(row.kid, privateKey);
      if (row.state !== 'active') continue;
      // Should two be active (never, by the lifecycle's rules), sign with the newest.
      const since = (row.activatedAt ?? row.publishedAt).getTime();
      if (since >= (active.get(row.alg)?.since ?? -Infinity))
        active.set(row.alg, { kid: row.kid, alg: row.alg, privateKey, since });
    }
    // Only the public members, whatever the row holds (never d, p, q, dp, dq, qi, k).
    const keys = rows.map((r) => ({
      ...publicOnly(r.publicJwk),
      kid: r.kid,
      use: 'sig',
      alg: r.alg,
    }));
    const body = JSON.stringify({ keys });
    this.published = published;
    // Forget the tokens of keys that are no longer published as they were (they would miss anyway).
    this.verified.forgetStale();
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
        .catch((err) =>
          this.options.log.warn(
            { err: { message: (err as Error).message } },
            'signing key refresh failed; keeping current keys',
          ),
        )
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
    return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid, typ }).sign(key.privateKey);
  }

  /**
   * Verifies a JWT issued by this server with jose's jwtVerify. The key is resolved by `kid`
   * among the published keys and the algorithm is pinned to that key's — never taken from the
   * token alone (RFC 8725 §3.1). Before the signature: canonical encoding, forbidden headers,
   * kid, alg and typ (./token-checks.ts). Claims: jose's rules with `iss`, `exp` and `iat`
   * required; `exp` then again with expToleranceSeconds.
   */
  async verify(token: string, options: VerifyOptions): Promise<VerifiedJwt> {
    const claimChecks = claimOptions(options, options.currentDate ?? this.options.clock.now());
    try {
      const hit = this.checkedBefore(token, options);
      const { key, header, payload } = hit
        ? { ...hit, payload: VerifiedTokens.payload(hit, claimChecks) }
        : await this.checkSignature(token, options, claimChecks);
      checkExp(payload, options, claimChecks.currentDate!);
      // Frozen, as the header: what one caller holds no other caller can change.
      return { payload: deepFreeze(payload), header, kid: key.kid };
    } catch (err) {
      return fromJose(err);
    }
  }

  /** The token's earlier signature check, if its key is still the one published. */
  private checkedBefore(
    token: string,
    options: VerifyOptions,
  ): CheckedToken<PublishedKey> | undefined {
    const hit = this.verified.get(token);
    if (!hit) return undefined;
    checkTyp(hit.header, options.typ);
    return hit;
  }

  private async checkSignature(
    token: string,
    options: VerifyOptions,
    claimChecks: JWTVerifyOptions,
  ): Promise<CheckedToken<PublishedKey> & { payload: JWTPayload }> {
    checkCompactShape(token);
    const header = decodeProtectedHeader(token) as JWTHeaderParameters;
    checkForbiddenHeaders(header);
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const key = kid ? this.published.get(kid) : undefined;
    if (!kid || !key)
      throw new TokenVerificationError(
        'unknown_kid',
        'token is signed with an unknown or retired key',
      );
    // Also what keeps "none" and HS256 out: the key's alg is RS256 or ES256.
    if (header.alg !== key.alg)
      throw new TokenVerificationError(
        'alg_mismatch',
        `token alg ${String(header.alg)} does not match key ${kid} (${key.alg})`,
      );
    checkTyp(header, options.typ);
    this.checks++;
    const { payload } = await jwtVerify(token, key.publicKey, {
      ...claimChecks,
      algorithms: [key.alg],
    });
    const checked = this.verified.remember(token, key, header);
    return { ...checked, payload };
  }
}

function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}
