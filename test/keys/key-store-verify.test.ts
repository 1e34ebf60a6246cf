/**
 * KeyStore.sign/verify: tokens interoperate with a plain jose verifier both ways, ES256
 * signatures are R||S (64 bytes, not DER), and every broken token gets its stable
 * TokenVerificationError code: alg "none" and alg mismatches refused, forbidden headers (jku,
 * x5u, jwk, x5c, crit, b64) refused, unknown kids refused, non-canonical encodings refused, and
 * the claims checked with the issuer's rules (exp with expToleranceSeconds, nbf with the clock
 * tolerance).
 *
 * The store reads its keys from an in-memory repository: nothing here needs a database.
 */
import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import { kekFingerprint, type Kek } from '../../src/keys/envelope';
import { generateSigningKey } from '../../src/keys/generate';
import { KeyStore, TokenVerificationError, type VerifyOptions } from '../../src/keys/key-store';
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
const NOW = 1_760_000_000; // a fixed "now" (seconds); the store's clock and currentDate use it
const clock: Clock = { now: () => new Date(NOW * 1000), epochSeconds: () => NOW };
const kekBytes = randomBytes(32);
const kek: Kek = { id: kekFingerprint(kekBytes), key: kekBytes };

interface TestKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  privateJwk: JWK;
  privateKey: KeyObject;
}

const row = (key: Parameters<typeof keyRow>[0], state: KeyState) => keyRow(key, state, kek, NOW);

function repoOf(rows: SigningKeyRecord[]): SigningKeyRepository {
  const unused = () => Promise.reject(new Error('not used by KeyStore'));
  return {
    listPublished: async () => rows,
    listAll: async () => rows,
    version: async () => 'v1',
    locked: unused,
    tryLocked: unused,
  };
}

function storeOf(rows: SigningKeyRecord[]): KeyStore {
  return new KeyStore({
    repo: repoOf(rows),
    keks: [kek],
    algs: ['RS256', 'ES256'],
    refreshIntervalSeconds: 60,
    clock,
    log: createLogger('silent'),
  });
}

async function testKey(alg: SigningAlg): Promise<TestKey> {
  const k = await generateSigningKey(alg);
  return { ...k, privateKey: createPrivateKey({ key: k.privateJwk as JsonWebKey, format: 'jwk' }) };
}

let store: KeyStore;
const keys = {} as Record<SigningAlg, TestKey>;
/** A published RS256 key that is not the active one (another key of the same alg). */
let nextRs: TestKey;

beforeAll(async () => {
  keys.RS256 = await testKey('RS256');
  keys.ES256 = await testKey('ES256');
  nextRs = await testKey('RS256');
  store = storeOf([row(keys.RS256, 'active'), row(keys.ES256, 'active'), row(nextRs, 'next')]);
  await store.load();
});

const ALGS: SigningAlg[] = ['RS256', 'ES256'];
const opts: VerifyOptions = {
  typ: 'at+jwt',
  issuer: ISS,
  clockToleranceSeconds: 0,
  currentDate: new Date(NOW * 1000),
};
const claims = (extra: Record<string, unknown> = {}): JWTPayload => ({
  iss: ISS,
  sub: 'user-1',
  jti: 'j-1',
  iat: NOW - 10,
  exp: NOW + 600,
  ...extra,
});

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const json = (v: unknown) => b64(JSON.stringify(v));
const seg = (token: string, i: number) => token.split('.')[i]!;
const decodeJson = (segment: string) =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

/** Signs exactly the given encoded segments (so tests can sign what KeyStore.sign never would). */
function signSegments(
  alg: SigningAlg,
  key: KeyObject,
  headerSeg: string,
  payloadSeg: string,
): string {
  const input = `${headerSeg}.${payloadSeg}`;
  const sig = cryptoSign(
    'sha256',
    Buffer.from(input),
    alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
  );
  return `${input}.${b64(sig)}`;
}

function signRaw(
  alg: SigningAlg,
  header: Record<string, unknown>,
  payload: unknown,
  key = keys[alg],
): string {
  return signSegments(alg, key.privateKey, json(header), json(payload));
}

const headerOf = (alg: SigningAlg, extra: Record<string, unknown> = {}) => ({
  alg,
  kid: keys[alg].kid,
  typ: 'at+jwt',
  ...extra,
});

/** The TokenVerificationError code verify() fails with, or 'ok'. */
async function outcome(token: unknown, options: VerifyOptions = opts): Promise<string> {
  try {
    await store.verify(token as string, options);
    return 'ok';
  } catch (err) {
    if (err instanceof TokenVerificationError) return err.code;
    throw err;
  }
}

describe.each(ALGS)('%s round trips', (alg) => {
  it('our token verifies with jose against the public key from the JWKS document, header alg, kid, typ in that order', async () => {
    const token = await store.sign(alg, 'at+jwt', claims({ aud: 'https://api.example.com' }));
    const jwk = (JSON.parse(store.jwks().body) as { keys: (JWK & { kid: string })[] }).keys.find(
      (k) => k.kid === keys[alg].kid,
    )!;
    const { payload, protectedHeader } = await jwtVerify(token, await importJWK(jwk, alg), {
      algorithms: [alg],
      typ: 'at+jwt',
      issuer: ISS,
      audience: 'https://api.example.com',
      currentDate: new Date(NOW * 1000),
      requiredClaims: ['exp', 'iat'],
    });
    expect(payload).toEqual(claims({ aud: 'https://api.example.com' }));
    expect(protectedHeader).toEqual({ alg, kid: keys[alg].kid, typ: 'at+jwt' });
    expect(Buffer.from(seg(token, 0), 'base64url').toString()).toBe(
      `{"alg":"${alg}","kid":"${keys[alg].kid}","typ":"at+jwt"}`,
    );
  });

  it('our token verifies with verify(), which returns payload, header and kid', async () => {
    const token = await store.sign(alg, 'at+jwt', claims({ scope: 'a b', roles: ['x'] }));
    await expect(store.verify(token, opts)).resolves.toEqual({
      payload: claims({ scope: 'a b', roles: ['x'] }),
      header: { alg, kid: keys[alg].kid, typ: 'at+jwt' },
      kid: keys[alg].kid,
    });
  });

  it("jose's SignJWT with the same private key verifies with ours", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg, kid: keys[alg].kid, typ: 'at+jwt' })
      .sign(await importJWK(keys[alg].privateJwk, alg));
    await expect(store.verify(token, opts)).resolves.toMatchObject({
      payload: claims(),
      kid: keys[alg].kid,
    });
  });

  it('uses the store clock when no currentDate is given', async () => {
    const token = await store.sign(alg, 'JWT', claims({ exp: NOW + 1 }));
    await expect(
      store.verify(token, { typ: 'JWT', issuer: ISS, clockToleranceSeconds: 0 }),
    ).resolves.toMatchObject({ kid: keys[alg].kid });
    const expired = await store.sign(alg, 'JWT', claims({ exp: NOW }));
    await expect(
      outcome(expired, { typ: 'JWT', issuer: ISS, clockToleranceSeconds: 0 }),
    ).resolves.toBe('expired');
  });

  it('signs many tokens concurrently, each verifying', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.sign(alg, 'at+jwt', claims({ jti: `j-${i}` }))),
    );
    const results = await Promise.all(tokens.map((t) => store.verify(t, opts)));
    expect(results.map((r) => r.payload.jti)).toEqual(tokens.map((_, i) => `j-${i}`));
  });
});

describe('signatures', () => {
  it('ES256 signatures are 64 bytes (R||S, RFC 7518 §3.4), RS256 ones the 256 bytes of the modulus', async () => {
    for (let i = 0; i < 10; i++)
      expect(
        Buffer.from(seg(await store.sign('ES256', 'at+jwt', claims()), 2), 'base64url'),
      ).toHaveLength(64);
    expect(
      Buffer.from(seg(await store.sign('RS256', 'at+jwt', claims()), 2), 'base64url'),
    ).toHaveLength(256);
  });

  it('a DER-encoded ECDSA signature over the same input is refused', async () => {
    const input = `${json(headerOf('ES256'))}.${json(claims())}`;
    const der = cryptoSign('sha256', Buffer.from(input), keys.ES256.privateKey); // default dsaEncoding: der
    await expect(outcome(`${input}.${b64(der)}`)).resolves.toBe('invalid_signature');
    // The same input with an R||S signature passes, so the only difference is the encoding.
    await expect(
      outcome(
        signSegments('ES256', keys.ES256.privateKey, json(headerOf('ES256')), json(claims())),
      ),
    ).resolves.toBe('ok');
  });

  it('sign() refuses payloads jose refused: not a plain object, non-finite times', async () => {
    await expect(store.sign('ES256', 'at+jwt', [] as unknown as JWTPayload)).rejects.toThrow(
      TypeError,
    );
    await expect(
      store.sign('ES256', 'at+jwt', new Date() as unknown as JWTPayload),
    ).rejects.toThrow(TypeError);
    await expect(store.sign('RS256', 'at+jwt', claims({ exp: Number.NaN }))).rejects.toThrow(
      /"exp" claim must be a finite number/,
    );
    await expect(store.sign('ES256', 'at+jwt', claims({ nbf: Infinity }))).rejects.toThrow(/"nbf"/);
  });

  it('sign() without an active key for the algorithm throws', async () => {
    const rsOnly = storeOf([row(keys.RS256, 'active')]);
    await rsOnly.load();
    await expect(rsOnly.sign('ES256', 'at+jwt', claims())).rejects.toThrow(
      'no active ES256 signing key',
    );
  });
});

describe.each(ALGS)('%s: tampering is invalid_signature', (alg) => {
  let token: string;
  beforeAll(async () => {
    token = await store.sign(alg, 'at+jwt', claims({ scope: 'read' }));
  });
  const [h, p, s] = [0, 1, 2];

  it('the untouched token verifies (so each failure below is the tampering)', async () => {
    await expect(outcome(token)).resolves.toBe('ok');
  });

  it('payload changed, signature kept', async () => {
    const payload = { ...decodeJson(seg(token, p)), scope: 'read write admin' };
    await expect(outcome(`${seg(token, h)}.${json(payload)}.${seg(token, s)}`)).resolves.toBe(
      'invalid_signature',
    );
  });

  it('header changed (an extra member, same kid, alg, typ), signature kept', async () => {
    const header = { ...decodeJson(seg(token, h)), cty: 'JWT' };
    await expect(outcome(`${json(header)}.${seg(token, p)}.${seg(token, s)}`)).resolves.toBe(
      'invalid_signature',
    );
  });

  it('header re-serialised with another member order, signature kept', async () => {
    const { alg: a, kid, typ } = decodeJson(seg(token, h));
    await expect(
      outcome(`${json({ typ, kid, alg: a })}.${seg(token, p)}.${seg(token, s)}`),
    ).resolves.toBe('invalid_signature');
  });

  it.each([0, 10, 31, 32, 63])('a bit flipped in signature byte %d', async (i) => {
    const sig = Buffer.from(seg(token, s), 'base64url');
    sig[i]! ^= 0x01;
    await expect(outcome(`${seg(token, h)}.${seg(token, p)}.${b64(sig)}`)).resolves.toBe(
      'invalid_signature',
    );
  });

  it.each([
    ['empty', () => Buffer.alloc(0)],
    ['one byte short', (sig: Buffer) => sig.subarray(0, sig.length - 1)],
    ['one byte longer', (sig: Buffer) => Buffer.concat([sig, Buffer.from([0])])],
    ['all zeros', (sig: Buffer) => Buffer.alloc(sig.length)],
  ])('signature %s', async (_name, change) => {
    const sig = change(Buffer.from(seg(token, s), 'base64url'));
    await expect(outcome(`${seg(token, h)}.${seg(token, p)}.${b64(sig)}`)).resolves.toBe(
      'invalid_signature',
    );
  });

  it("another key's signature under this key's kid", async () => {
    const other = alg === 'RS256' ? nextRs : await testKey('ES256');
    await expect(outcome(signRaw(alg, headerOf(alg), claims(), other))).resolves.toBe(
      'invalid_signature',
    );
  });
});

describe('malformed tokens', () => {
  let token: string;
  beforeAll(async () => {
    token = await store.sign('ES256', 'at+jwt', claims());
  });
  const parts = () => token.split('.') as [string, string, string];

  it.each([
    ['an empty string', () => ''],
    ['one segment', () => parts()[0]],
    ['two segments', () => parts().slice(0, 2).join('.')],
    ['four segments', () => `${token}.${parts()[2]}`],
    ['five segments (JWE shape)', () => `${parts()[0]}.a.b.c.d`],
    ['a trailing dot', () => `${token}.`],
  ])('%s', async (_name, make) => {
    await expect(outcome(make())).resolves.toBe('malformed');
  });

  it.each([undefined, null, 42, ['a', 'b', 'c'], { token: 'x' }])(
    'a non-string token (%p)',
    async (value) => {
      await expect(outcome(value)).resolves.toBe('malformed');
    },
  );

  it.each([0, 1, 2])(
    'segment %d: characters outside base64url, padding, standard base64, non-canonical bits',
    async (i) => {
      const variants = [
        (x: string) => `${x.slice(0, 4)}*${x.slice(4)}`,
        (x: string) => `${x.slice(0, 4)} ${x.slice(4)}`,
        (x: string) => `${x}=`,
        (x: string) => `${x}==`,
        (x: string) =>
          x.replace(/-/g, '+').replace(/_/g, '/') + (x.includes('-') || x.includes('_') ? '' : '+'),
        (x: string) => `${x}A`.slice(0, x.length + (x.length % 4 === 0 ? 1 : 0)), // length ≡ 1 (mod 4) when x ≡ 0
      ];
      for (const variant of variants) {
        const p = parts();
        p[i] = variant(p[i]!);
        if (p[i] === parts()[i]) continue;
        await expect(outcome(p.join('.'))).resolves.toBe('malformed');
      }
    },
  );

  it('segment whose last character carries non-zero unused bits (decodes to the same bytes)', async () => {
    // 64 bytes of ES256 signature = 86 chars, the last one carrying 2 bits of data and 4 unused.
    const p = parts();
    const sig = p[2];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    expect(last & 0x0f).toBe(0);
    const variant = sig.slice(0, -1) + alphabet[last | 0x01];
    expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    await expect(outcome(`${p[0]}.${p[1]}.${variant}`)).resolves.toBe('malformed');
  });

  it.each([
    ['not JSON', b64('{"iss":')],
    ['a JSON array', json([claims()])],
    ['a JSON string', json('hello')],
    ['a JSON number', json(42)],
    ['JSON null', json(null)],
    ['empty', ''],
  ])('a validly signed payload that is %s', async (_name, payloadSeg) => {
    const signed = signSegments(
      'ES256',
      keys.ES256.privateKey,
      json(headerOf('ES256')),
      payloadSeg,
    );
    await expect(outcome(signed)).resolves.toBe('malformed');
  });

  it.each([
    ['not JSON', () => b64('{"alg":')],
    ['a JSON array', () => json([headerOf('ES256')])],
    ['JSON null', () => json(null)],
    ['empty', () => ''],
  ])('a header that is %s', async (_name, headerSeg) => {
    await expect(
      outcome(signSegments('ES256', keys.ES256.privateKey, headerSeg(), json(claims()))),
    ).resolves.toBe('malformed');
  });
});

describe('headers', () => {
  it.each(['jku', 'x5u', 'jwk', 'x5c'])('a "%s" header is forbidden_header', async (h) => {
    await expect(
      outcome(
        signRaw('RS256', headerOf('RS256', { [h]: 'https://evil.example.com/keys' }), claims()),
      ),
    ).resolves.toBe('forbidden_header');
  });

  it.each([
    [
      'crit naming an unknown extension',
      { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true },
    ],
    ['crit naming exp', { crit: ['exp'] }],
    ['crit: b64 with b64 false', { crit: ['b64'], b64: false }],
    ['crit: b64 with b64 true', { crit: ['b64'], b64: true }],
    ['b64 false without crit', { b64: false }],
    ['an empty crit', { crit: [] }],
  ])('%s is forbidden_header, however well signed', async (_name, extra) => {
    for (const alg of ALGS) {
      await expect(outcome(signRaw(alg, headerOf(alg, extra), claims()))).resolves.toBe(
        'forbidden_header',
      );
    }
  });

  it('the alg is pinned to the key: an ES256 header on the RS256 key (signed with ES256) is alg_mismatch', async () => {
    const token = signSegments(
      'ES256',
      keys.ES256.privateKey,
      json({ alg: 'ES256', kid: keys.RS256.kid, typ: 'at+jwt' }),
      json(claims()),
    );
    await expect(outcome(token)).resolves.toBe('alg_mismatch');
    const swapped = signSegments(
      'RS256',
      keys.RS256.privateKey,
      json({ alg: 'RS256', kid: keys.ES256.kid, typ: 'at+jwt' }),
      json(claims()),
    );
    await expect(outcome(swapped)).resolves.toBe('alg_mismatch');
  });

  it.each(ALGS)(
    'alg "none" on the %s key is alg_mismatch, with or without a signature',
    async (alg) => {
      const unsigned = `${json({ alg: 'none', kid: keys[alg].kid, typ: 'at+jwt' })}.${json(claims())}`;
      await expect(outcome(`${unsigned}.`)).resolves.toBe('alg_mismatch');
      await expect(outcome(`${unsigned}.${b64('x')}`)).resolves.toBe('alg_mismatch');
      await expect(
        outcome(`${json({ kid: keys[alg].kid, typ: 'at+jwt' })}.${json(claims())}.`),
      ).resolves.toBe('alg_mismatch');
    },
  );

  it('HS256 keyed with the public key (key confusion) is alg_mismatch', async () => {
    const input = `${json({ alg: 'HS256', kid: keys.RS256.kid, typ: 'at+jwt' })}.${json(claims())}`;
    const mac = createHmac('sha256', JSON.stringify(keys.RS256.publicJwk)).update(input).digest();
    await expect(outcome(`${input}.${b64(mac)}`)).resolves.toBe('alg_mismatch');
  });

  it('an unknown or missing kid is unknown_kid', async () => {
    await expect(
      outcome(signRaw('ES256', headerOf('ES256', { kid: 'no-such-kid' }), claims())),
    ).resolves.toBe('unknown_kid');
    await expect(
      outcome(signRaw('ES256', { alg: 'ES256', typ: 'at+jwt' }, claims())),
    ).resolves.toBe('unknown_kid');
    await expect(outcome(signRaw('ES256', headerOf('ES256', { kid: 7 }), claims()))).resolves.toBe(
      'unknown_kid',
    );
  });

  it('typ: case-insensitive, optional application/ prefix, anything else typ_mismatch', async () => {
    await expect(
      outcome(signRaw('ES256', headerOf('ES256', { typ: 'AT+JWT' }), claims())),
    ).resolves.toBe('ok');
    await expect(
      outcome(signRaw('ES256', headerOf('ES256', { typ: 'application/at+jwt' }), claims())),
    ).resolves.toBe('ok');
    await expect(
      outcome(signRaw('ES256', headerOf('ES256', { typ: 'JWT' }), claims())),
    ).resolves.toBe('typ_mismatch');
    await expect(
      outcome(signRaw('ES256', headerOf('ES256', { typ: undefined }), claims())),
    ).resolves.toBe('typ_mismatch');
  });
});

describe('claims', () => {
  const at = (
    seconds: number,
    tolerance = 0,
    extra: Partial<VerifyOptions> = {},
  ): VerifyOptions => ({
    ...opts,
    currentDate: new Date(seconds * 1000),
    clockToleranceSeconds: tolerance,
    ...extra,
  });

  it.each([0, 30])(
    'exp at the boundary, tolerance %d: expired when exp <= now - tolerance',
    async (tol) => {
      const token = await store.sign('ES256', 'at+jwt', claims({ iat: NOW - 1000, exp: NOW }));
      await expect(outcome(token, at(NOW + tol, tol))).resolves.toBe('expired');
      await expect(outcome(token, at(NOW + tol - 1, tol))).resolves.toBe('ok');
      // now is floor(ms / 1000): 999 ms into the last valid second is still that second.
      await expect(
        outcome(token, {
          ...at(NOW + tol - 1, tol),
          currentDate: new Date((NOW + tol - 1) * 1000 + 999),
        }),
      ).resolves.toBe('ok');
    },
  );

  it.each<[string, number, string]>([
    ['1 s before exp', -1, 'ok'],
    ['at exp', 0, 'expired'],
    ['1 s after exp', 1, 'expired'],
    ['29 s after exp', 29, 'expired'],
  ])(
    'expToleranceSeconds 0 with clockToleranceSeconds 30 (the issuer), %s (%i s) → %s',
    async (_name, offset, expected) => {
      const token = await store.sign('RS256', 'at+jwt', claims({ iat: NOW - 1000, exp: NOW }));
      await expect(outcome(token, at(NOW + offset, 30, { expToleranceSeconds: 0 }))).resolves.toBe(
        expected,
      );
    },
  );

  it('expToleranceSeconds 0 leaves nbf its clock tolerance', async () => {
    const token = await store.sign('RS256', 'at+jwt', claims({ nbf: NOW + 30 }));
    await expect(outcome(token, at(NOW, 30, { expToleranceSeconds: 0 }))).resolves.toBe('ok');
    await expect(outcome(token, at(NOW, 30, { expToleranceSeconds: -1 }))).resolves.toBe(
      'malformed',
    );
  });

  it.each([0, 30])(
    'nbf in the future beyond tolerance %d is claim_invalid; at now + tolerance it passes',
    async (tol) => {
      const token = await store.sign('RS256', 'at+jwt', claims({ nbf: NOW + tol }));
      await expect(outcome(token, at(NOW, tol))).resolves.toBe('ok');
      await expect(outcome(token, at(NOW - 1, tol))).resolves.toBe('claim_invalid');
    },
  );

  it.each([
    ['missing iat', { iat: undefined }, 'claim_invalid'],
    ['missing exp', { exp: undefined }, 'claim_invalid'],
    ['missing iss', { iss: undefined }, 'claim_invalid'],
    ['iat a string', { iat: String(NOW) }, 'claim_invalid'],
    ['iat null', { iat: null }, 'claim_invalid'],
    [
      'exp a string (even a past one is not "expired")',
      { exp: String(NOW - 100) },
      'claim_invalid',
    ],
    ['nbf a string', { nbf: String(NOW - 100) }, 'claim_invalid'],
    ['iss another issuer', { iss: 'https://evil.example.com' }, 'claim_invalid'],
    ['iss with a trailing slash', { iss: `${ISS}/` }, 'claim_invalid'],
    ['iss an array holding the issuer', { iss: [ISS] }, 'claim_invalid'],
    ['iat in the future (not checked here)', { iat: NOW + 3600 }, 'ok'],
    [
      'an expired token with a bad iss (iss is checked first)',
      { iss: 'x', exp: NOW - 100 },
      'claim_invalid',
    ],
    [
      'an expired token with a future nbf (nbf is checked first)',
      { nbf: NOW + 100, exp: NOW - 100 },
      'claim_invalid',
    ],
  ])('%s: %s', async (_name, extra, expected) => {
    for (const alg of ALGS) {
      const token = signRaw(alg, headerOf(alg), claims(extra));
      expect(await outcome(token)).toBe(expected);
    }
  });

  it.each([
    ['a matching string', 'api', 'api', 'ok'],
    ['an array holding it', ['other', 'api'], 'api', 'ok'],
    ['an array intersecting the accepted list', ['x', 'b'], ['a', 'b'], 'ok'],
    ['another string', 'other', 'api', 'claim_invalid'],
    ['an array without it', ['x', 'y'], ['a', 'b'], 'claim_invalid'],
    ['an empty array', [], 'api', 'claim_invalid'],
    ['missing', undefined, 'api', 'claim_invalid'],
    ['a number', 7, 'api', 'claim_invalid'],
    ['anything, when no audience is asked for', 'whatever', undefined, 'ok'],
  ])('aud %s', async (_name, aud, audience, expected) => {
    const token = await store.sign('ES256', 'at+jwt', claims({ aud }));
    const options = { ...opts, ...(audience === undefined ? {} : { audience: audience }) };
    expect(await outcome(token, options)).toBe(expected);
  });
});

describe('loading keys', () => {
  it('refuses an RSA key under 2048 bits (jose refused to use one)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 }); // jose will not even generate one
    const weak = {
      kid: 'weak',
      alg: 'RS256' as const,
      publicJwk: publicKey.export({ format: 'jwk' }) as JWK,
      privateJwk: privateKey.export({ format: 'jwk' }) as JWK,
    };
    await expect(storeOf([row(weak, 'active')]).load()).rejects.toThrow(
      'signing key weak is not a valid RS256 key',
    );
  });

  it('refuses a P-384 key labelled ES256', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
    const wrong = {
      kid: 'p384',
      alg: 'ES256' as const,
      publicJwk: await exportJWK(publicKey),
      privateJwk: await exportJWK(privateKey),
    };
    await expect(storeOf([row(wrong, 'next')]).load()).rejects.toThrow();
  });

  it('a published key whose private part is not loaded (retiring) still verifies its tokens', async () => {
    const retiring = storeOf([row(keys.ES256, 'retiring'), row(keys.RS256, 'active')]);
    await retiring.load();
    const token = await store.sign('ES256', 'at+jwt', claims());
    await expect(retiring.verify(token, opts)).resolves.toMatchObject({ kid: keys.ES256.kid });
    await expect(retiring.sign('ES256', 'at+jwt', claims())).rejects.toThrow(
      'no active ES256 signing key',
    );
  });
});
