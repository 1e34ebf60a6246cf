/**
 * A client's public keys as a jose key resolver, for every JWT a client signs: authentication
 * assertions (private_key_jwt, RFC 7523) now, request objects (RFC 9101) later.
 *
 * - Inline keys (`jwks`) are used as registered.
 * - `jwks_uri` is fetched through the outbound-request policy (shared/outbound-fetch.ts) and
 *   cached per client for the response's `Cache-Control: max-age`, bounded between the refetch
 *   interval and a day (5 minutes when absent).
 * - A `kid` the cached set does not hold triggers one refetch (how a client's key rotation is
 *   followed), at most once per refetch interval per client, so a flood of assertions with
 *   invented `kid`s costs the client's server one request per interval, not one per assertion.
 *   Failed fetches count too; for a bounded time after its expiry the last good set stays usable
 *   when the client's server is down.
 * - The cache holds at most `maxEntries` clients (least recently used dropped first).
 *
 * The algorithm is never taken from the key or the token alone: the caller pins the accepted
 * algorithms (RFC 8725 §3.1) and jose matches the key's type (and `alg`, if the key has one).
 */
import {
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type JWTVerifyResult,
} from 'jose';
// The resource-server toolkit's cache lifetime rules (RFC 9111 §4.2.1), reused as they are.
import { clamp, freshnessSeconds } from '../resource-server/http-fetch';
import { jsonBody, outboundFetch, OutboundFetchError } from '../shared/outbound-fetch';
import type { Clock } from '../shared/clock';
import { usablePublicKeys, type ClientKeyAlg } from './client-jwks';
import type { ClientJwks, ClientRecord } from './client-storage';

export { CLIENT_KEY_ALGS, type ClientKeyAlg } from './client-jwks';

export type ClientKeyFailure = 'no_keys' | 'unavailable' | 'unknown_key' | 'kid_required';

/** Why no key could be chosen; `message` is safe to show the client. */
export class ClientKeyError extends Error {
  override name = 'ClientKeyError';
  constructor(
    readonly reason: ClientKeyFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ClientKeysOptions {
  /** OUTBOUND_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  clock: Clock;
  /** Least time between two fetches of one client's jwks_uri (default 60 s). */
  refetchIntervalSeconds?: number;
  timeoutMs?: number;
  /** Largest JWK Set document read (default 64 KiB). */
  maxBytes?: number;
  /** Clients whose fetched keys are kept (default 1000). */
  maxEntries?: number;
}

export type ClientWithKeys = Pick<ClientRecord, 'id' | 'jwks' | 'jwksUri'>;

type KeySet = ReturnType<typeof createLocalJWKSet>;

interface RemoteEntry {
  uri: string;
  keys: KeySet | null;
  expiresAtMs: number;
  lastAttemptMs: number;
  inflight?: Promise<void>;
}

const DEFAULT_MAX_AGE_SECONDS = 300;
const MAX_MAX_AGE_SECONDS = 24 * 3600;
const STALE_IF_ERROR_SECONDS = 3600;

export class ClientKeys {
  private readonly remote = new Map<string, RemoteEntry>();
  /** Inline sets by the registered object, so imported keys are reused while it is cached. */
  private readonly inline = new WeakMap<ClientJwks, KeySet>();
  private readonly intervalMs: number;

  constructor(private readonly options: ClientKeysOptions) {
    this.intervalMs = (options.refetchIntervalSeconds ?? 60) * 1000;
  }

  /** The key resolver for JWTs `client` signs; throws ClientKeyError when none fits. */
  resolver(client: ClientWithKeys): JWTVerifyGetKey {
    return async (header, token) => {
      if (client.jwks) return select(this.inlineSet(client.jwks), header, token);
      if (!client.jwksUri) throw new ClientKeyError('no_keys', 'the client has registered no keys');
      const uri = client.jwksUri;
      let entry = await this.fresh(client.id, uri);
      try {
        return await select(entry.keys, header, token);
      } catch (err) {
        if (!(err instanceof ClientKeyError) || err.reason !== 'unknown_key') throw err;
        if (this.now() - entry.lastAttemptMs < this.intervalMs) throw err;
        // RFC 7517 §4.5: an unknown kid may be a key the client has just rotated in.
        entry = await this.refetch(client.id, uri);
        return select(entry.keys, header, token);
      }
    };
  }

  /**
   * Verifies a JWT signed by `client` with one of `options.algorithms` (required: the caller
   * pins them). jose's errors and ClientKeyError pass through for the caller to word.
   */
  async verify(
    client: ClientWithKeys,
    jwt: string,
    options: JWTVerifyOptions & { algorithms: readonly ClientKeyAlg[] },
  ): Promise<JWTVerifyResult> {
    return jwtVerify(jwt, this.resolver(client), {
      ...options,
      algorithms: [...options.algorithms],
    });
  }

  /** Drops a client's fetched keys (its registration changed). */
  invalidate(clientId: string): void {
    this.remote.delete(clientId);
  }

  private inlineSet(jwks: ClientJwks): KeySet {
    let set = this.inline.get(jwks);
    if (!set) {
      set = createLocalJWKSet(jwks);
      this.inline.set(jwks, set);
    }
    return set;
  }

  /** The client's cached set if fresh; otherwise fetched (once per interval). */
  private async fresh(clientId: string, uri: string): Promise<RemoteEntry & { keys: KeySet }> {
    const entry = this.entry(clientId, uri);
    if (entry.keys && this.now() < entry.expiresAtMs)
      return entry as RemoteEntry & { keys: KeySet };
    return this.refetch(clientId, uri);
  }

  /**
   * Fetches the set unless a fetch ran within the interval (then the stale set, if still usable,
   * or a failure); joins a fetch in flight.
   */
  private async refetch(clientId: string, uri: string): Promise<RemoteEntry & { keys: KeySet }> {
    const entry = this.entry(clientId, uri);
    if (!entry.inflight && this.now() - entry.lastAttemptMs >= this.intervalMs) {
      entry.lastAttemptMs = this.now();
      entry.inflight = this.load(entry).finally(() => delete entry.inflight);
    }
    let failure: unknown;
    if (entry.inflight) await entry.inflight.catch((err: unknown) => (failure = err));
    const staleUntil = entry.expiresAtMs + STALE_IF_ERROR_SECONDS * 1000;
    if (entry.keys && (failure === undefined || this.now() < staleUntil))
      return entry as RemoteEntry & { keys: KeySet };
    if (failure instanceof ClientKeyError) throw failure;
    throw new ClientKeyError('unavailable', "the client's jwks_uri could not be fetched", {
      cause: failure,
    });
  }

  private async load(entry: RemoteEntry): Promise<void> {
    let document: unknown;
    let headers: Headers;
    try {
      const res = await outboundFetch(entry.uri, {
        allowPrivate: this.options.allowPrivate,
        timeoutMs: this.options.timeoutMs ?? 5000,
        maxBytes: this.options.maxBytes ?? 64 * 1024,
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      if (res.status !== 200)
        throw new ClientKeyError('unavailable', `the client's jwks_uri answered ${res.status}`);
      document = jsonBody(res);
      headers = res.headers;
    } catch (err) {
      if (err instanceof OutboundFetchError)
        throw new ClientKeyError('unavailable', `the client's jwks_uri: ${err.message}`, {
          cause: err,
        });
      throw err;
    }
    const jwks = usablePublicKeys(document);
    if (!jwks?.keys.length)
      throw new ClientKeyError('no_keys', "the client's jwks_uri holds no usable public key");
    const seconds = freshnessSeconds(headers) ?? DEFAULT_MAX_AGE_SECONDS;
    entry.keys = createLocalJWKSet(jwks);
    entry.expiresAtMs =
      this.now() + clamp(seconds * 1000, this.intervalMs, MAX_MAX_AGE_SECONDS * 1000);
  }

  /** The client's entry (made on first use; least recently used evicted at the bound). */
  private entry(clientId: string, uri: string): RemoteEntry {
    let entry = this.remote.get(clientId);
    if (entry && entry.uri !== uri) entry = undefined;
    if (entry) this.remote.delete(clientId);
    else {
      entry = { uri, keys: null, expiresAtMs: 0, lastAttemptMs: Number.NEGATIVE_INFINITY };
      const max = this.options.maxEntries ?? 1000;
      while (this.remote.size >= max) this.remote.delete(this.remote.keys().next().value!);
    }
    this.remote.set(clientId, entry);
    return entry;
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }
}

/** The one registered key the JWT's header names; jose checks the key type fits the alg. */
async function select(
  keys: KeySet,
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
): Promise<Awaited<ReturnType<KeySet>>> {
  try {
    return await keys(header, token);
  } catch (err) {
    if (err instanceof joseErrors.JWKSMultipleMatchingKeys)
      throw new ClientKeyError(
        'kid_required',
        'the JWT has no kid and several registered keys could have signed it',
      );
    if (err instanceof joseErrors.JWKSNoMatchingKey)
      throw new ClientKeyError(
        'unknown_key',
        header.kid === undefined
          ? `no registered key fits alg ${String(header.alg)}`
          : `no registered key has kid ${JSON.stringify(header.kid).slice(0, 80)} for alg ${String(header.alg)}`,
      );
    throw err;
  }
}
