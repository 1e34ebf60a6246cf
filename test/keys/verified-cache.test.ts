/**
 * KeyStore.verify remembers the tokens whose signature it checked (by their exact text, with
 * the key that checked them): a token presented again skips the signature and nothing else.
 * Checked here: the claims and `typ` still apply on every call, a retired key's tokens fail at
 * once, a changed key state re-checks, a tampered copy of a remembered token is still checked,
 * failures are never remembered, the memory is bounded, and what it hands out cannot be
 * changed by a caller. The store reads its keys from an in-memory repository.
 */
import { randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { kekFingerprint, type Kek } from '../../src/keys/envelope';
import { generateSigningKey } from '../../src/keys/generate';
import {
  KeyStore,
  TokenVerificationError,
  VERIFIED_CACHE_SIZE,
  type VerifyOptions,
} from '../../src/keys/key-store';
import type {
  KeyState,
  SigningKeyRecord,
  SigningKeyRepository,
} from '../../src/keys/signing-key-storage';
import type { SigningAlg } from '../../src/keys/algorithms';
import type { Clock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { keyRow } from '../support/key-rows';

const ISS = 'https://issuer.example.com';
const NOW = 1_760_000_000;
const clock: Clock = { now: () => new Date(NOW * 1000), epochSeconds: () => NOW };
const kekBytes = randomBytes(32);
const kek: Kek = { id: kekFingerprint(kekBytes), key: kekBytes };
const opts: VerifyOptions = {
  typ: 'at+jwt',
  issuer: ISS,
  clockToleranceSeconds: 0,
  currentDate: new Date(NOW * 1000),
};

type GeneratedKey = Awaited<ReturnType<typeof generateSigningKey>>;

const row = (key: Parameters<typeof keyRow>[0], state: KeyState) => keyRow(key, state, kek, NOW);

/** A key table the test rewrites; every rewrite is a new version (the store reloads on refresh). */
class Table {
  rows: SigningKeyRecord[] = [];
  private v = 0;
  set(rows: SigningKeyRecord[]): void {
    this.rows = rows;
    this.v++;
  }
  repo(): SigningKeyRepository {
    const unused = () => Promise.reject(new Error('not used by KeyStore'));
    return {
      listPublished: async () => this.rows.filter((r) => r.state !== 'retired'),
      listAll: async () => this.rows,
      version: async () => `v${this.v}`,
      locked: unused,
      tryLocked: unused,
    };
  }
}

const ALGS: SigningAlg[] = ['ES256', 'RS256'];
let keys: Record<SigningAlg, GeneratedKey>;
let table: Table;
let store: KeyStore;

beforeAll(async () => {
  keys = { ES256: await generateSigningKey('ES256'), RS256: await generateSigningKey('RS256') };
});

beforeEach(async () => {
  table = new Table();
  table.set(ALGS.map((alg) => row(keys[alg], 'active')));
  store = new KeyStore({
    repo: table.repo(),
    keks: [kek],
    algs: ALGS,
    refreshIntervalSeconds: 60,
    clock,
    log: createLogger('silent'),
  });
  await store.load();
});

const claims = (extra: Record<string, unknown> = {}): JWTPayload => ({
  iss: ISS,
  sub: 'user-1',
  jti: randomBytes(8).toString('hex'),
  iat: NOW - 10,
  exp: NOW + 600,
  ...extra,
});

async function outcome(token: string, options: VerifyOptions = opts): Promise<string> {
  try {
    await store.verify(token, options);
    return 'ok';
  } catch (err) {
    if (err instanceof TokenVerificationError) return err.code;
    throw err;
  }
}

describe.each(ALGS)('%s', (alg) => {
  it('a token presented again is not checked again, and verifies the same', async () => {
    const token = await store.sign(alg, 'at+jwt', claims());
    const first = await store.verify(token, opts);
    const checks = store.signatureChecks;
    const second = await store.verify(token, opts);
    expect(store.signatureChecks).toBe(checks);
    expect(second).toEqual(first);
    expect(second.kid).toBe(keys[alg].kid);
  });

  it("a remembered token's claims and typ are still checked on every call", async () => {
    const token = await store.sign(alg, 'at+jwt', claims());
    expect(await outcome(token)).toBe('ok');
    expect(await outcome(token, { ...opts, currentDate: new Date((NOW + 601) * 1000) })).toBe(
      'expired',
    );
    expect(await outcome(token, { ...opts, issuer: 'https://other.example.com' })).toBe(
      'claim_invalid',
    );
    expect(await outcome(token, { ...opts, audience: 'https://api.example.com' })).toBe(
      'claim_invalid',
    );
    expect(await outcome(token, { ...opts, typ: 'JWT' })).toBe('typ_mismatch');
    expect(await outcome(token)).toBe('ok');
  });

  it('a copy of a remembered token with another payload is checked, and fails', async () => {
    const token = await store.sign(alg, 'at+jwt', claims());
    expect(await outcome(token)).toBe('ok');
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url')}.${sig}`;
    const checks = store.signatureChecks;
    expect(await outcome(forged)).toBe('invalid_signature');
    expect(await outcome(forged)).toBe('invalid_signature');
    expect(store.signatureChecks).toBe(checks + 2); // failures are never remembered
  });

  it('a remembered token fails as soon as its key is no longer published', async () => {
    const token = await store.sign(alg, 'at+jwt', claims());
    expect(await outcome(token)).toBe('ok');
    table.set(
      table.rows.map((r) => (r.kid === keys[alg].kid ? { ...r, state: 'retired' as const } : r)),
    );
    expect(await store.refresh()).toBe(true);
    expect(await outcome(token)).toBe('unknown_kid');
  });

  it("a change of its key's state checks the token again; a reload without changes does not", async () => {
    const token = await store.sign(alg, 'at+jwt', claims());
    expect(await outcome(token)).toBe('ok');
    table.set([...table.rows]); // same keys, new version: reloaded, nothing changed
    expect(await store.refresh()).toBe(true);
    let checks = store.signatureChecks;
    expect(await outcome(token)).toBe('ok');
    expect(store.signatureChecks).toBe(checks);

    table.set(
      table.rows.map((r) => (r.kid === keys[alg].kid ? { ...r, state: 'retiring' as const } : r)),
    );
    expect(await store.refresh()).toBe(true);
    checks = store.signatureChecks;
    expect(await outcome(token)).toBe('ok');
    expect(store.signatureChecks).toBe(checks + 1);
  });

  it('what it hands out cannot be changed by a caller', async () => {
    const token = await store.sign(alg, 'at+jwt', claims({ aud: ['https://api.example.com'] }));
    const first = await store.verify(token, opts);
    expect(() => {
      (first.payload as Record<string, unknown>).sub = 'admin';
    }).toThrow(TypeError);
    expect(() => (first.payload.aud as string[]).push('https://evil.example.com')).toThrow(
      TypeError,
    );
    const again = await store.verify(token, opts);
    expect(again.payload.sub).toBe('user-1');
    expect(again.payload.aud).toEqual(['https://api.example.com']);
  });
});

it(`remembers at most ${VERIFIED_CACHE_SIZE} tokens, forgetting the oldest first`, async () => {
  const tokens = await Promise.all(
    Array.from({ length: VERIFIED_CACHE_SIZE + 1 }, () => store.sign('ES256', 'at+jwt', claims())),
  );
  for (const t of tokens) await store.verify(t, opts);
  const checks = store.signatureChecks;
  await store.verify(tokens[VERIFIED_CACHE_SIZE]!, opts); // the newest: remembered
  await store.verify(tokens[1]!, opts); // the oldest still remembered
  expect(store.signatureChecks).toBe(checks);
  await store.verify(tokens[0]!, opts); // the first one made room for the last
  expect(store.signatureChecks).toBe(checks + 1);
});
