/**
 * Shared set-up for the key tests: fast rotation settings, a second "instance" on the same
 * database, and small readers of the key table.
 */
import { loadConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { openServices } from '../../src/server';
import type { Services } from '../../src/services';
import type { KeyState, SigningKeyRecord } from '../../src/keys/signing-key-storage';
import type { SigningAlg } from '../../src/keys/algorithms';
import { createLogger } from '../../src/shared/logger';
import type { TestServer } from './server';

/**
 * Publish wait = JWKS_MAX_AGE + KEY_PUBLISH_MARGIN + KEY_REFRESH_INTERVAL = 32 s of the test
 * clock (long enough that real time passing during a test never makes a key eligible); retire
 * wait = 60 + 0 + 1 = 61 s. Key stores poll every second of real time.
 */
export const FAST_KEYS_ENV: Record<string, string> = {
  JWKS_MAX_AGE: '30',
  KEY_PUBLISH_MARGIN: '1',
  KEY_REFRESH_INTERVAL: '1',
  ACCESS_TOKEN_TTL: '60',
  ID_TOKEN_TTL: '60',
  CLOCK_SKEW: '0',
};
export const PUBLISH_WAIT = 32;
export const RETIRE_WAIT = 61;

export const ALGS: SigningAlg[] = ['RS256', 'ES256'];

export async function keysIn(
  services: Pick<Services, 'signingKeys'>,
  alg?: SigningAlg,
  state?: KeyState,
): Promise<SigningKeyRecord[]> {
  return (await services.signingKeys.listAll()).filter(
    (k) => (!alg || k.alg === alg) && (!state || k.state === state),
  );
}

/** kid of the single key of `alg` in `state` (fails the test when there is not exactly one). */
export async function onlyKid(
  services: Pick<Services, 'signingKeys'>,
  alg: SigningAlg,
  state: KeyState,
): Promise<string> {
  const keys = await keysIn(services, alg, state);
  expect(keys).toHaveLength(1);
  return keys[0]!.kid;
}

/** Polls `check` until it returns true (for timers running in real time), failing after `ms`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 20_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Instance {
  services: Services;
  close(): Promise<void>;
}

/**
 * Another Tessera instance on the server's database: its own connection pool on PostgreSQL
 * (PGlite has one connection, so it shares it), its own KeyStore, the same clock.
 */
export async function secondInstance(
  server: TestServer,
  env: Record<string, string> = {},
): Promise<Instance> {
  const config = loadConfig({ ...envOf(server), ...env });
  const own: Database | undefined = server.database.url
    ? await openDatabase({ url: server.database.url, poolSize: 4 })
    : undefined;
  const services = await openServices(config, createLogger('silent'), {
    db: own ?? server.database.db,
    skipMigrations: true,
    clock: server.clock,
  });
  return {
    services,
    async close() {
      services.keyStore.stop();
      await own?.close();
    },
  };
}

/** The environment the server was started with (its config is the parsed form of it). */
export function envOf(server: TestServer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(server.config)) {
    if (/^[A-Z][A-Z0-9_]*$/.test(k) && v !== undefined)
      env[k] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return env;
}
