/**
 * Several instances on one database (issue 3 §6–7): concurrent rotations serialise under the
 * advisory lock and leave exactly one active key per algorithm; a rotation made by one
 * instance reaches another's key store by refresh/polling, without a restart.
 */
import { rotateSigningKeys } from '../../src/keys/key-rotation';
import { startTestServer, type TestServer } from '../support/server';
import {
  ALGS,
  eventually,
  FAST_KEYS_ENV,
  keysIn,
  PUBLISH_WAIT,
  secondInstance,
  type Instance,
} from '../support/keys';

// Each start creates, migrates and keys a fresh database: slow on a loaded 2-core machine.
jest.setTimeout(180_000);

let server: TestServer;
let other: Instance;
beforeAll(async () => {
  server = await startTestServer({ env: FAST_KEYS_ENV });
  other = await secondInstance(server);
});
afterAll(async () => {
  await other?.close();
  await server?.stop();
});

async function stateCounts() {
  const keys = await keysIn(server.services);
  return Object.fromEntries(
    ALGS.map((alg) => [
      alg,
      keys
        .filter((k) => k.alg === alg)
        .map((k) => k.state)
        .sort(),
    ]),
  );
}

describe('concurrent rotations', () => {
  it.each([1, 2, 3])(
    'round %d: two rotations at once promote once and leave exactly one active key per algorithm',
    async (round) => {
      server.clock.advance(PUBLISH_WAIT);
      const results = await Promise.all([
        rotateSigningKeys(server.services),
        rotateSigningKeys(other.services),
      ]);
      // Exactly one of the two performed the promotion; the other found nothing left to do.
      const promotions = results.map(
        (r) => r.plan.algs.flatMap((a) => a.actions).filter((x) => x.type === 'promote').length,
      );
      expect(promotions.sort()).toEqual([0, ALGS.length]);
      const counts = await stateCounts();
      for (const alg of ALGS) {
        expect(counts[alg]!.filter((s) => s === 'active')).toHaveLength(1);
        expect(counts[alg]!.filter((s) => s === 'next')).toHaveLength(1);
        // One demoted key per round (the first ones retire once their tokens have expired).
        expect(counts[alg]!.filter((s) => s === 'retiring' || s === 'retired')).toHaveLength(round);
      }
    },
  );
});

describe('another instance picks up a rotation', () => {
  it('on refresh()', async () => {
    await other.services.keyStore.refresh();
    server.clock.advance(PUBLISH_WAIT);
    await rotateSigningKeys(server.services, { algs: ['RS256'] });
    const active = (await keysIn(server.services, 'RS256', 'active'))[0]!.kid;
    expect(other.services.keyStore.activeKid('RS256')).not.toBe(active);
    expect(await other.services.keyStore.refresh()).toBe(true);
    expect(other.services.keyStore.activeKid('RS256')).toBe(active);
    // Every instance serves the byte-identical JWKS, so caches see one ETag.
    await server.services.keyStore.refresh();
    expect(other.services.keyStore.jwks().etag).toBe(server.services.keyStore.jwks().etag);
    // Nothing changed since: a second refresh does not reload.
    expect(await other.services.keyStore.refresh()).toBe(false);
  });

  it('by polling within KEY_REFRESH_INTERVAL, and signs with the new key', async () => {
    other.services.keyStore.start();
    server.clock.advance(PUBLISH_WAIT);
    await rotateSigningKeys(server.services, { algs: ['ES256'] });
    const active = (await keysIn(server.services, 'ES256', 'active'))[0]!.kid;
    await eventually(() => other.services.keyStore.activeKid('ES256') === active);
    const token = await other.services.keyStore.sign('ES256', 'at+jwt', {
      iss: server.config.issuer,
      iat: server.clock.epochSeconds(),
      exp: server.clock.epochSeconds() + 60,
    });
    await eventually(() => server.services.keyStore.activeKid('ES256') === active);
    await expect(
      server.services.keyStore.verify(token, {
        typ: 'at+jwt',
        issuer: server.config.issuer,
        clockToleranceSeconds: 0,
      }),
    ).resolves.toMatchObject({ kid: active });
  });
});
