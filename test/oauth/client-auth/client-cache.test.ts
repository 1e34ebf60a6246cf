import { CachedClientLookup } from '../../../src/oauth/client-auth/client-cache';
import type { ClientRecord } from '../../../src/clients/client-storage';
import { AdjustableClock } from '../../../src/shared/clock';

function record(id: string, name = 'app'): ClientRecord {
  const now = new Date();
  return {
    id,
    name,
    secretHash: null,
    isPublic: true,
    tokenEndpointAuthMethod: null,
    firstParty: false,
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: [],
    scopes: [],
    audiences: [],
    accessTokenTtl: null,
    idTokenTtl: null,
    refreshTokenTtl: null,
    refreshTokenIdleTtl: null,
    signingAlg: null,
    clientUri: null,
    logoUri: null,
    jwks: null,
    jwksUri: null,
    tokenEndpointAuthSigningAlg: null,
    secretCiphertext: null,
    registrationTokenHash: null,
    registrant: null,
    dpopBoundAccessTokens: false,
    requirePushedAuthorizationRequests: false,
    requireSignedRequestObject: false,
    requestObjectSigningAlg: null,
    tokenExchange: null,
    backchannelLogoutUri: null,
    backchannelLogoutSessionRequired: false,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
}

/** An in-memory client table that counts its reads. */
function table(ids: string[]) {
  const rows = new Map(ids.map((id) => [id, record(id)]));
  let reads = 0;
  return {
    rows,
    reads: () => reads,
    findById: async (id: string) => {
      reads += 1;
      await new Promise((r) => setImmediate(r));
      return rows.get(id) ?? null;
    },
  };
}

describe('CachedClientLookup', () => {
  it('serves a client from memory until its TTL, then reloads (changes show within the TTL)', async () => {
    const repo = table(['a']);
    const clock = new AdjustableClock();
    const cache = new CachedClientLookup(repo, { ttlSeconds: 5, maxEntries: 10, clock });
    expect((await cache.findById('a'))?.name).toBe('app');
    repo.rows.set('a', record('a', 'renamed'));
    clock.advance(4);
    expect((await cache.findById('a'))?.name).toBe('app');
    clock.advance(2);
    expect((await cache.findById('a'))?.name).toBe('renamed');
    expect(repo.reads()).toBe(2);
  });

  it('does not cache unknown ids, so random ids cannot fill it', async () => {
    const repo = table([]);
    const cache = new CachedClientLookup(repo, {
      ttlSeconds: 5,
      maxEntries: 10,
      clock: new AdjustableClock(),
    });
    expect(await cache.findById('nope')).toBeNull();
    expect(await cache.findById('nope')).toBeNull();
    expect(repo.reads()).toBe(2);
  });

  it('holds at most maxEntries, evicting the oldest', async () => {
    const repo = table(['a', 'b', 'c']);
    const cache = new CachedClientLookup(repo, {
      ttlSeconds: 60,
      maxEntries: 2,
      clock: new AdjustableClock(),
    });
    for (const id of ['a', 'b', 'c']) await cache.findById(id);
    expect(repo.reads()).toBe(3);
    await cache.findById('c');
    await cache.findById('b');
    expect(repo.reads()).toBe(3);
    await cache.findById('a'); // evicted
    expect(repo.reads()).toBe(4);
  });

  it('concurrent look-ups of one id share a single read', async () => {
    const repo = table(['a']);
    const cache = new CachedClientLookup(repo, {
      ttlSeconds: 5,
      maxEntries: 10,
      clock: new AdjustableClock(),
    });
    await Promise.all(Array.from({ length: 20 }, () => cache.findById('a')));
    expect(repo.reads()).toBe(1);
  });
});
