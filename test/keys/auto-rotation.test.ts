/**
 * Automatic rotation under KEY_ROTATION_INTERVAL (issue 3 §6): a running server performs the
 * rotation step when it is due, and with two instances only one of them does it.
 */
import { AutoRotation } from '../../src/keys/auto-rotation';
import { startTestServer, type TestServer } from '../support/server';
import {
  ALGS,
  eventually,
  FAST_KEYS_ENV,
  keysIn,
  onlyKid,
  RETIRE_WAIT,
  secondInstance,
  type Instance,
} from '../support/keys';

// Each start creates, migrates and keys a fresh database: slow on a loaded 2-core machine.
jest.setTimeout(180_000);

const INTERVAL = 100; // > the 32 s publish wait, so the next key is always eligible when due

let server: TestServer;
let other: Instance;
beforeAll(async () => {
  server = await startTestServer({
    env: { ...FAST_KEYS_ENV, KEY_ROTATION_INTERVAL: String(INTERVAL) },
  });
  other = await secondInstance(server, { KEY_ROTATION_INTERVAL: String(INTERVAL) });
});
afterAll(async () => {
  await other?.close();
  await server?.stop();
});

async function states(alg: string) {
  return (await keysIn(server.services))
    .filter((k) => k.alg === alg)
    .map((k) => k.state)
    .sort();
}

describe('automatic rotation', () => {
  it('does nothing before the active key is due', async () => {
    const auto = new AutoRotation({ ...server.services, keyStore: server.services.keyStore });
    await expect(auto.tick()).resolves.toBeNull();
    for (const alg of ALGS) expect(await states(alg)).toEqual(['active', 'next']);
  });

  it('rotates a due active key on its own, once, even with two instances checking', async () => {
    const otherAuto = new AutoRotation({ ...other.services, keyStore: other.services.keyStore });
    otherAuto.start();
    try {
      const before = Object.fromEntries(
        await Promise.all(
          ALGS.map(async (alg) => [alg, await onlyKid(server.services, alg, 'active')] as const),
        ),
      );
      server.clock.advance(INTERVAL);
      // The server's own timer (every KEY_REFRESH_INTERVAL) or the other instance's does it.
      await eventually(async () =>
        ALGS.every((alg) => server.services.keyStore.activeKid(alg) !== before[alg]),
      );
      for (const alg of ALGS) {
        expect(await states(alg)).toEqual(['active', 'next', 'retiring']);
        expect((await keysIn(server.services, alg, 'retiring'))[0]!.kid).toBe(before[alg]);
      }
      // Give both timers a few more ticks: nothing further is due, so nothing else happens.
      await new Promise((r) => setTimeout(r, 2500));
      for (const alg of ALGS) expect(await states(alg)).toEqual(['active', 'next', 'retiring']);
    } finally {
      otherAuto.stop();
    }
  });

  it('retires the demoted key once its tokens have expired', async () => {
    server.clock.advance(RETIRE_WAIT);
    await eventually(
      async () => (await keysIn(server.services, undefined, 'retired')).length === ALGS.length,
    );
    for (const alg of ALGS) expect(await states(alg)).toEqual(['active', 'next', 'retired']);
  });
});
