/**
 * A small in-memory cache of client records in front of the client repository, so that a
 * client_credentials call does not pay a database round trip for its client.
 *
 * Entries live `ttlSeconds` (a few seconds) and the map holds at most `maxEntries`; changes
 * made by an operator (disable, secret rotation) therefore take effect within the TTL on
 * every instance, which is the accepted invalidation. Unknown client ids are not cached, so
 * random ids cannot fill the map. Time comes from the injected clock (tests move it).
 */
import type { ClientRecord, ClientRepository } from '../../clients/client-storage';
import type { Clock } from '../../shared/clock';

export type ClientLookup = Pick<ClientRepository, 'findById'>;

export interface ClientCacheOptions {
  ttlSeconds: number;
  maxEntries: number;
  clock: Clock;
}

interface Entry {
  client: ClientRecord;
  expiresAtMs: number;
}

export class CachedClientLookup implements ClientLookup {
  private readonly entries = new Map<string, Entry>();
  /** Concurrent look-ups of the same id share one query. */
  private readonly pending = new Map<string, Promise<ClientRecord | null>>();

  constructor(
    private readonly repo: ClientLookup,
    private readonly options: ClientCacheOptions,
  ) {}

  async findById(id: string): Promise<ClientRecord | null> {
    const now = this.options.clock.now().getTime();
    const hit = this.entries.get(id);
    if (hit && hit.expiresAtMs > now) return hit.client;
    if (hit) this.entries.delete(id);
    const inflight = this.pending.get(id);
    if (inflight) return inflight;
    const load = this.repo
      .findById(id)
      .then((client) => {
        if (client) this.store(id, client, now);
        return client;
      })
      .finally(() => this.pending.delete(id));
    this.pending.set(id, load);
    return load;
  }

  /** Drops one client (or all) so the next look-up reads the database. */
  invalidate(id?: string): void {
    if (id === undefined) this.entries.clear();
    else this.entries.delete(id);
  }

  private store(id: string, client: ClientRecord, now: number): void {
    if (this.entries.size >= this.options.maxEntries) {
      // Map iteration order is insertion order: evict the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, { client, expiresAtMs: now + this.options.ttlSeconds * 1000 });
  }
}
