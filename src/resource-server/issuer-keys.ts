/**
 * The issuer's metadata and signing keys as a resource server sees them.
 *
 * - `jwks_uri` is discovered from `${issuer}/.well-known/openid-configuration`; the document's
 *   `issuer` must equal the configured one exactly (OIDC Discovery 1.0 §4.3, RFC 8414 §3.3),
 *   or a look-alike document could point us at someone else's keys.
 * - The JWKS is cached for the response's `Cache-Control: max-age` (clamped between the
 *   cooldown and a day; 5 minutes when absent) and revalidated with `If-None-Match`.
 * - An unknown `kid` triggers a refetch — that is how a key rotation is followed without a
 *   restart — but at most once per cooldown, so a flood of tokens with invented `kid`s costs
 *   the issuer one request per cooldown, not one per token.
 * - Concurrent refetches share one request. When the issuer is unreachable the last keys
 *   stay in use for a bounded time (STALE_IF_ERROR_SECONDS) so an outage does not log
 *   every user out; a key unknown to them is still refused.
 * - Only keys whose own `alg` is allowed are kept: the verification algorithm is then taken
 *   from the key, never from the token (RFC 8725 §3.1).
 */
import { importJWK, type CryptoKey, type JSONWebKeySet, type KeyObject } from 'jose';
import { IssuerUnavailableError, invalidToken } from './errors';
import { clamp, fetchJson, freshnessSeconds, type FetchLike } from './http-fetch';

/** Asymmetric algorithms this toolkit accepts; HS* and `none` can never be configured in. */
export const SUPPORTED_ALGS = ['RS256', 'ES256'] as const;
export type AccessTokenAlg = (typeof SUPPORTED_ALGS)[number];

export const DEFAULT_COOLDOWN_SECONDS = 30;
const DEFAULT_MAX_AGE_SECONDS = 300;
const MAX_MAX_AGE_SECONDS = 24 * 3600;
const STALE_IF_ERROR_SECONDS = 3600;

export interface IssuerMetadata {
  issuer: string;
  jwksUri: string;
  introspectionEndpoint?: string;
  /** Advertised signing algorithms ∩ SUPPORTED_ALGS. */
  algorithms: AccessTokenAlg[];
}

export interface ResolvedKey {
  kid: string;
  alg: AccessTokenAlg;
  key: CryptoKey | KeyObject;
}

export interface IssuerKeysOptions {
  issuer: string;
  fetch?: FetchLike;
  /** Milliseconds since the epoch; tests pass a controllable clock. */
  now?: () => number;
  refetchCooldownSeconds?: number;
  timeoutMs?: number;
  /** Use this JWKS URL instead of discovering it (the inspector's `--jwks URL`). */
  jwksUri?: string;
  /** Use this key set and never fetch keys (the inspector's `--jwks file`). */
  jwks?: JSONWebKeySet;
}

interface Cached<T> {
  value: T;
  expiresAt: number;
  etag?: string;
}

export class IssuerKeys {
  readonly issuer: string;
  private readonly fetchFn: FetchLike;
  private readonly now: () => number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private metadataCache: Cached<IssuerMetadata> | undefined;
  private metadataInflight: Promise<IssuerMetadata> | undefined;
  private keysCache: Cached<Map<string, ResolvedKey>> | undefined;
  private keysInflight: Promise<void> | undefined;
  private lastKeysAttempt = Number.NEGATIVE_INFINITY;
  private lastMetadataAttempt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: IssuerKeysOptions) {
    this.issuer = options.issuer;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.cooldownMs = (options.refetchCooldownSeconds ?? DEFAULT_COOLDOWN_SECONDS) * 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /**
   * The issuer's discovery document (cached per its Cache-Control). Like the JWKS, it is asked
   * for at most once per cooldown, so an issuer that is down is not hit by every request.
   */
  async metadata(): Promise<IssuerMetadata> {
    const cached = this.metadataCache;
    if (cached && this.now() < cached.expiresAt) return cached.value;
    const usable =
      cached !== undefined && this.now() < cached.expiresAt + STALE_IF_ERROR_SECONDS * 1000;
    if (!this.metadataInflight) {
      if (this.now() - this.lastMetadataAttempt < this.cooldownMs) {
        if (usable) return cached.value;
        throw new IssuerUnavailableError("the issuer's discovery document could not be fetched");
      }
      this.lastMetadataAttempt = this.now();
      this.metadataInflight = this.fetchMetadata().finally(
        () => (this.metadataInflight = undefined),
      );
    }
    try {
      return await this.metadataInflight;
    } catch (err) {
      if (usable) return cached.value;
      throw err;
    }
  }

  /** Algorithms a token may use: the issuer's advertised ones ∩ SUPPORTED_ALGS. */
  async algorithms(): Promise<readonly AccessTokenAlg[]> {
    if (this.options.jwks || this.options.jwksUri) return SUPPORTED_ALGS;
    return (await this.metadata()).algorithms;
  }

  /** The key a token's `kid` names, refetching the JWKS once per cooldown when it is unknown. */
  async key(kid: string): Promise<ResolvedKey> {
    if (!this.keysCache || this.now() >= this.keysCache.expiresAt) await this.refreshKeys();
    let found = this.keysCache?.value.get(kid);
    if (!found && this.now() - this.lastKeysAttempt >= this.cooldownMs) {
      await this.refreshKeys();
      found = this.keysCache?.value.get(kid);
    }
    if (!found)
      throw invalidToken(
        'unknown_kid',
        'the token is signed with a key the issuer does not publish',
      );
    return found;
  }

  /** Fetches the JWKS unless a fetch ran within the cooldown; joins a fetch in flight. */
  private async refreshKeys(): Promise<void> {
    const cached = this.keysCache;
    const usable = () =>
      cached !== undefined && this.now() < cached.expiresAt + STALE_IF_ERROR_SECONDS * 1000;
    if (!this.keysInflight) {
      if (this.now() - this.lastKeysAttempt < this.cooldownMs) {
        // The last attempt failed moments ago: do not hammer the issuer; use what we have.
        if (usable()) return;
        throw new IssuerUnavailableError("the issuer's keys could not be fetched");
      }
      this.lastKeysAttempt = this.now();
      this.keysInflight = this.fetchKeys().finally(() => (this.keysInflight = undefined));
    }
    try {
      await this.keysInflight;
    } catch (err) {
      if (usable()) return;
      throw err;
    }
  }

  private async fetchMetadata(): Promise<IssuerMetadata> {
    const url = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetchJson(this.fetchFn, url, {
      timeoutMs: this.timeoutMs,
      what: "the issuer's discovery document",
      headers: { accept: 'application/json' },
    });
    if (res.status !== 200 || typeof res.body !== 'object' || res.body === null) {
      throw new IssuerUnavailableError(`the issuer's discovery document answered ${res.status}`);
    }
    const doc = res.body as Record<string, unknown>;
    // OIDC Discovery 1.0 §4.3: the issuer in the document MUST be identical to the one asked.
    if (doc.issuer !== this.issuer)
      throw new IssuerUnavailableError('the discovery document names a different issuer');
    const jwksUri = this.options.jwksUri ?? doc.jwks_uri;
    if (typeof jwksUri !== 'string' || !isAllowedUrl(jwksUri, this.issuer))
      throw new IssuerUnavailableError('the discovery document has no usable jwks_uri');
    const advertised = Array.isArray(doc.id_token_signing_alg_values_supported)
      ? doc.id_token_signing_alg_values_supported
      : [];
    const algorithms = SUPPORTED_ALGS.filter((a) => advertised.includes(a));
    if (!algorithms.length)
      throw new IssuerUnavailableError(
        'the issuer advertises no supported signing algorithm (RS256, ES256)',
      );
    const introspection =
      typeof doc.introspection_endpoint === 'string' &&
      isAllowedUrl(doc.introspection_endpoint, this.issuer)
        ? doc.introspection_endpoint
        : undefined;
    const value: IssuerMetadata = {
      issuer: this.issuer,
      jwksUri,
      algorithms,
      ...(introspection ? { introspectionEndpoint: introspection } : {}),
    };
    this.metadataCache = { value, expiresAt: this.now() + this.lifetimeMs(res.headers) };
    return value;
  }

  private async fetchKeys(): Promise<void> {
    if (this.options.jwks) {
      this.keysCache = {
        value: await importKeys(this.options.jwks, [...SUPPORTED_ALGS]),
        expiresAt: Number.POSITIVE_INFINITY,
      };
      return;
    }
    const { jwksUri, algorithms } = this.options.jwksUri
      ? { jwksUri: this.options.jwksUri, algorithms: [...SUPPORTED_ALGS] }
      : await this.metadata();
    const cached = this.keysCache;
    const headers: Record<string, string> = {
      accept: 'application/jwk-set+json, application/json',
    };
    if (cached?.etag) headers['if-none-match'] = cached.etag;
    const res = await fetchJson(this.fetchFn, jwksUri, {
      timeoutMs: this.timeoutMs,
      what: "the issuer's JWKS",
      headers,
    });
    const expiresAt = this.now() + this.lifetimeMs(res.headers);
    if (res.status === 304 && cached) {
      this.keysCache = { ...cached, expiresAt };
      return;
    }
    if (res.status !== 200)
      throw new IssuerUnavailableError(`the issuer's JWKS answered ${res.status}`);
    const etag = res.headers.get('etag') ?? undefined;
    this.keysCache = {
      value: await importKeys(res.body, algorithms),
      expiresAt,
      ...(etag ? { etag } : {}),
    };
  }

  private lifetimeMs(headers: Headers): number {
    const seconds = freshnessSeconds(headers) ?? DEFAULT_MAX_AGE_SECONDS;
    return clamp(seconds * 1000, this.cooldownMs, MAX_MAX_AGE_SECONDS * 1000);
  }
}

/** Imports the signing keys whose own `alg` is allowed; others (and malformed ones) are skipped. */
export async function importKeys(
  jwks: unknown,
  algorithms: readonly AccessTokenAlg[],
): Promise<Map<string, ResolvedKey>> {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as JSONWebKeySet).keys)) {
    throw new IssuerUnavailableError("the issuer's JWKS is not a key set");
  }
  const keys = new Map<string, ResolvedKey>();
  for (const jwk of (jwks as JSONWebKeySet).keys) {
    const { kid, alg } = jwk;
    if (typeof kid !== 'string' || !kid || keys.has(kid)) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (!algorithms.includes(alg as AccessTokenAlg)) continue;
    // Public parts only: a JWK carrying a private member is a publishing mistake, not a key to trust.
    if ('d' in jwk || 'k' in jwk) continue;
    try {
      keys.set(kid, {
        kid,
        alg: alg as AccessTokenAlg,
        key: (await importJWK(jwk, alg)) as CryptoKey | KeyObject,
      });
    } catch {
      // A key that does not match its own alg (e.g. an EC key labelled RS256) is unusable.
    }
  }
  return keys;
}

/** https, or http only when the issuer itself is http (local development and tests). */
function isAllowedUrl(value: string, issuer: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && issuer.startsWith('http:'));
  } catch {
    return false;
  }
}
