/**
 * Key-encryption keys (issue 3 §2): a restart with the wrong or a missing KEK refuses to start
 * and creates nothing; the right one brings back the same keys; "new,old" + reencrypt moves
 * every key to the new KEK; the embedded default generates its KEK with mode 0600.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KekError } from '../../src/keys/envelope';
import { LOCAL_KEK_FILE, resolveKeks } from '../../src/keys/kek-source';
import { reencryptAll } from '../../src/keys/key-rotation';
import { PrismaSigningKeyRepository } from '../../src/persistence/postgres/signing-keys';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestServer } from '../support/server';

// Each start creates, migrates and keys a fresh database: slow on a loaded 2-core machine.
jest.setTimeout(180_000);

const newKek = () => randomBytes(32).toString('base64');

let database: TestDatabase;
let repo: PrismaSigningKeyRepository;
const oldKek = newKek();
let kids: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  repo = new PrismaSigningKeyRepository(database.db.prisma);
  const first = await startTestServer({ database, env: { KEY_ENCRYPTION_KEY: oldKek } });
  kids = (await repo.listAll()).map((k) => k.kid).sort();
  await first.stop();
});
afterAll(async () => {
  await database?.drop();
});

async function snapshot() {
  return (await repo.listAll()).map((k) => `${k.kid}:${k.state}:${k.kekId}`).sort();
}

describe('restart and the key-encryption key', () => {
  it.each([
    [
      'a wrong key-encryption key',
      () => newKek(),
      /cannot decrypt 4 existing signing key\(s\).*No signing keys were created/,
    ],
    ['two wrong key-encryption keys', () => `${newKek()},${newKek()}`, /cannot decrypt/],
  ])(
    'with %s it refuses to start with KekError and changes nothing',
    async (_name, kek, message) => {
      const before = await snapshot();
      const start = startTestServer({ database, env: { KEY_ENCRYPTION_KEY: kek() } });
      await expect(start).rejects.toThrow(KekError);
      await expect(start).rejects.toThrow(message);
      expect(await snapshot()).toEqual(before);
    },
  );

  it('without KEY_ENCRYPTION_KEY it refuses to start (PostgreSQL: required; embedded: the generated key cannot decrypt them)', async () => {
    const before = await snapshot();
    const start = startTestServer({ database, env: { KEY_ENCRYPTION_KEY: '' } });
    await expect(start).rejects.toThrow(KekError);
    await expect(start).rejects.toThrow(
      database.url ? /KEY_ENCRYPTION_KEY is required with DATABASE_URL/ : /cannot decrypt/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('with the right key the same keys come back and sign', async () => {
    const server = await startTestServer({ database, env: { KEY_ENCRYPTION_KEY: oldKek } });
    try {
      expect((await repo.listAll()).map((k) => k.kid).sort()).toEqual(kids);
      const token = await server.services.keyStore.sign('RS256', 'JWT', {
        iss: server.config.issuer,
        iat: server.clock.epochSeconds(),
        exp: server.clock.epochSeconds() + 60,
      });
      await expect(
        server.services.keyStore.verify(token, {
          typ: 'JWT',
          issuer: server.config.issuer,
          clockToleranceSeconds: 0,
        }),
      ).resolves.toBeDefined();
    } finally {
      await server.stop();
    }
  });

  it('rotates the KEK: "new,old" then reencrypt, after which "new" alone starts and "old" alone does not', async () => {
    const kek2 = newKek();
    const both = await startTestServer({
      database,
      env: { KEY_ENCRYPTION_KEY: `${kek2},${oldKek}` },
    });
    const { reencrypted, unchanged } = await reencryptAll(both.services);
    expect(reencrypted.sort()).toEqual(kids);
    expect(unchanged).toEqual([]);
    expect(new Set((await repo.listAll()).map((k) => k.kekId))).toEqual(
      new Set([both.services.keks[0]!.id]),
    );
    await both.stop();

    const onlyNew = await startTestServer({ database, env: { KEY_ENCRYPTION_KEY: kek2 } });
    expect((await repo.listAll()).map((k) => k.kid).sort()).toEqual(kids);
    expect(onlyNew.services.keyStore.isReady()).toBe(true);
    await onlyNew.stop();
    await expect(
      startTestServer({ database, env: { KEY_ENCRYPTION_KEY: oldKek } }),
    ).rejects.toThrow(KekError);
  });
});

describe('the embedded default key-encryption key', () => {
  it('is generated once into KEYS_DIR with mode 0600 and reused', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tessera-kek-')), 'keys');
    try {
      const first = resolveKeks({ configured: undefined, embedded: true, keysDir: dir });
      expect(statSync(join(dir, LOCAL_KEK_FILE)).mode & 0o777).toBe(0o600);
      expect(resolveKeks({ configured: undefined, embedded: true, keysDir: dir }).keks[0]!.id).toBe(
        first.keks[0]!.id,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['not base64', 'not base64!', /entry 1 is not base64/],
    ['the wrong length', Buffer.alloc(16).toString('base64'), /must decode to 32 bytes/],
  ])('rejects a KEY_ENCRYPTION_KEY that is %s', (_name, value, message) => {
    expect(() => resolveKeks({ configured: value, embedded: false, keysDir: 'unused' })).toThrow(
      message,
    );
  });
});
