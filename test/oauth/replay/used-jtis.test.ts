import { PostgresUsedJtiRepository } from '../../../src/persistence/postgres/used-jtis';
import { createTestDatabase, type TestDatabase } from '../../support/database';

let database: TestDatabase;
let usedJtis: PostgresUsedJtiRepository;
const later = () => new Date(Date.now() + 60_000);

beforeAll(async () => {
  database = await createTestDatabase();
  usedJtis = new PostgresUsedJtiRepository(database.db.sql);
});
afterAll(() => database.drop());

it('accepts an identifier once, and refuses it again while it lives', async () => {
  expect(await usedJtis.useOnce('client_assertion', 'client-a jti-1', later())).toBe(true);
  expect(await usedJtis.useOnce('client_assertion', 'client-a jti-1', later())).toBe(false);
});

it('keeps kinds and keys apart', async () => {
  expect(await usedJtis.useOnce('dpop_proof', 'client-a jti-1', later())).toBe(true);
  expect(await usedJtis.useOnce('client_assertion', 'client-b jti-1', later())).toBe(true);
});

it('stores only a hash of the key', async () => {
  await usedJtis.useOnce('client_assertion', 'visible-jti-value', later());
  const rows = await database.db.prisma.usedJti.findMany();
  expect(JSON.stringify(rows)).not.toContain('visible-jti-value');
});

it('takes over an entry that has expired', async () => {
  expect(await usedJtis.useOnce('dpop_proof', 'old', new Date(Date.now() - 1000))).toBe(true);
  expect(await usedJtis.useOnce('dpop_proof', 'old', later())).toBe(true);
  expect(await usedJtis.useOnce('dpop_proof', 'old', later())).toBe(false);
});

it('lets exactly one of many concurrent uses through', async () => {
  const results = await Promise.all(
    Array.from({ length: 12 }, () => usedJtis.useOnce('client_assertion', 'raced', later())),
  );
  expect(results.filter(Boolean)).toHaveLength(1);
});

it('answers each use of a batch on its own: a repeated key is a replay, the others are new', async () => {
  const results = await Promise.all(
    ['b1', 'b2', 'b1', 'b3', 'b2'].map((k) => usedJtis.useOnce('dpop_proof', k, later())),
  );
  expect(results).toEqual([true, true, false, true, false]);
  expect(await usedJtis.useOnce('dpop_proof', 'b3', later())).toBe(false);
});
