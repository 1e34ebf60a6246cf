/**
 * /readyz says ready only when every algorithm the server may sign with has an active key:
 * each of SIGNING_ALGS and DEFAULT_SIGNING_ALG (what a client without its own choice gets).
 * loadConfig refuses a DEFAULT_SIGNING_ALG outside SIGNING_ALGS; startServer is also a library
 * entry point (src/index.ts) taking a Config it did not parse, so readiness checks on its own.
 */
import { loadConfig, type Config } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort, testServerEnv } from '../support/server';

jest.setTimeout(120_000);

async function start(database: TestDatabase, overrides: Partial<Config>): Promise<RunningServer> {
  const port = await freePort();
  const env = {
    ...testServerEnv(port, '/nonexistent-tessera-data'),
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    SEED_DEMO: 'false',
  };
  // Without DATABASE_URL the embedded default would seed the demo into DATA_DIR.
  const config = { ...loadConfig(env), ...overrides, embedded: false };
  return startServer(config, createLogger('silent'), { db: database.db, skipMigrations: true });
}

describe('GET /readyz and the signing algorithms', () => {
  it.each([
    [
      'SIGNING_ALGS=RS256,ES256, DEFAULT_SIGNING_ALG=ES256',
      { SIGNING_ALGS: ['RS256', 'ES256'], DEFAULT_SIGNING_ALG: 'ES256' },
      200,
      'ok',
    ],
    [
      'SIGNING_ALGS=RS256, DEFAULT_SIGNING_ALG=ES256 (no ES256 key is kept)',
      { SIGNING_ALGS: ['RS256'], DEFAULT_SIGNING_ALG: 'ES256' },
      503,
      'missing',
    ],
  ] as const)('%s → %i', async (_name, overrides, status, signingKeys) => {
    // A fresh database each: keys another case created would be loaded too.
    const database = await createTestDatabase();
    const server = await start(database, {
      SIGNING_ALGS: [...overrides.SIGNING_ALGS],
      DEFAULT_SIGNING_ALG: overrides.DEFAULT_SIGNING_ALG,
    });
    try {
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({
        status: status === 200 ? 'ready' : 'not_ready',
        checks: { database: 'ok', signing_keys: signingKeys },
      });
    } finally {
      await server.close();
      await database.drop();
    }
  });
});
