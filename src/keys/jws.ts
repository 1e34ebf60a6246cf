/**
 * JWS compact serialization (RFC 7515 §3.1, §5) of the JWTs this server signs and verifies
 * itself, directly on node:crypto KeyObjects. Only what KeyStore needs: RS256 and ES256, a
 * protected header and nothing else; the caller checks the header (kid, alg, typ, forbidden
 * parameters) between parseCompact and verifyCompact. Claims are checked with jose's semantics
 * (jwtVerify's validateClaimsSet): on any token this server could have issued, the verdict and
 * error code are the ones jose gave (test/keys/jws.test.ts compares them).
 *
 * Why not jose: jose 6 runs every sign/verify through WebCrypto, whose per-call argument
 * normalisation, CryptoKey handling and job promises cost more main-thread time than the
 * cryptography itself (CPU profiles of the refresh and introspection endpoints).
 *
 * Measured on this 2-core machine (Node 20.20), main-thread CPU per operation (schedstat of the
 * main thread; in brackets the whole process, pool threads included), medians of 3 runs with
 * 1–16 operations in flight; another benchmark shared the machine, so ±30%:
 *
 *   node:crypto alone  sync              callback (libuv pool)
 *   ES256 sign          34 µs  [35]       10–20 µs  [51–66]
 *   ES256 verify        78–85  [79–87]    16–21     [101–117]
 *   RS256 sign         ≈700    [≈700]     35–60     [740–790]   (whole sign, encoding included)
 *   RS256 verify        26–29  [26–29]    10–21     [52–66]
 *
 *   KeyStore, 8 in flight  jose (before)   this file (after)
 *   ES256 sign          73–79  [144–151]  41–51  [46–53]
 *   ES256 verify        83–101 [181–228]  32–42  [127–154]
 *   RS256 sign          80–86  [816–870]  27–62  [730–980]
 *   RS256 verify        60–75  [114–136]  41–50  [48–66]
 *
 * The callback form costs 10–20 µs of main-thread dispatch plus 20–40 µs more CPU in all, and
 * would queue behind whatever holds the pool's threads: argon2id hashes, tens of ms each. The
 * server sizes the pool to the hashes it admits (one thread per core), so during a burst of
 * logins every thread hashes; then (shared/thread-pool.ts) signing and verifying run inline on
 * the main thread instead, where they cost less CPU in all and wait for no hash. Otherwise
 * ES256 verify and RS256 sign, the expensive ones, run on the pool. ES256 sign runs there
 * too: in `npm run bench` (2 cores, Intel Xeon, 2026-11-29) the sync sign took ~55 µs of the
 * main thread per token, 20 % of it under client_credentials, and on the pool
 * client_credentials went from 3,560 and 4,371 to 4,530 and 5,425 req/s (p99 59 and 51 → 45
 * and 38 ms) in alternating runs, refresh unchanged (876–899 vs 861–888). RS256 verify
 * (≤ 30 µs) stays on the main thread: VERIFY_ON_POOL below.
 */
import { isUtf8 } from 'node:buffer';
import { constants, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { threadPool } from '../shared/thread-pool';

export type JwsAlg = 'RS256' | 'ES256';

/** Why a compact JWS or its claims were refused; the codes are KeyStore's (TokenVerificationError). */
export class JwsError extends Error {
  override name = 'JwsError';
  constructor(
    readonly code: 'malformed' | 'invalid_signature' | 'expired' | 'claim_invalid',
    message: string,
  ) {
    super(message);
  }
}

/** Whether a verification runs on the libuv pool (callback form) or the main thread (measurements above) while the pool has a thread free of hashes; signing then always runs on the pool. */
const VERIFY_ON_POOL = { ES256: true, RS256: false } as const;

/** RFC 7518 §3.4: an ES256 signature is R || S, 32 bytes each (not DER). */
const ES256_SIGNATURE_BYTES = 64;

/** node:crypto options for `alg` (both hash with SHA-256). */
function keyFor(alg: JwsAlg, key: KeyObject) {
  // RFC 7518 §3.3: RS256 is RSASSA-PKCS1-v1_5 (node's default for RSA keys, spelled out here).
  return alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : { key, padding: constants.RSA_PKCS1_PADDING };
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * Signs a JWT: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature). Like jose's
 * SignJWT, refuses a payload that is not a plain object and non-finite iat/nbf/exp (which
 * JSON.stringify would silently turn into null).
 */
export function signCompact(alg: JwsAlg, key: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  if (!isPlainObject(payload)) return Promise.reject(new TypeError('JWT Claims Set MUST be an object'));
  for (const claim of ['iat', 'nbf', 'exp']) {
    const value = payload[claim];
    if (typeof value === 'number' && !Number.isFinite(value)) return Promise.reject(new TypeError(`"${claim}" claim must be a finite number`));
  }
  const input = `${encodeJson(header)}.${encodeJson(payload)}`;
  const data = Buffer.from(input, 'latin1'); // base64url and '.': ASCII
  const done = (signature: Buffer) => `${input}.${signature.toString('base64url')}`;
  if (!threadPool.hasFreeThread()) {
    try {
      return Promise.resolve(done(cryptoSign('sha256', data, keyFor(alg, key))));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  // On the libuv pool, both algorithms (see the measurements above).
  return new Promise((resolve, reject) => {
    cryptoSign('sha256', data, keyFor(alg, key), (err, signature) => (err ? reject(err) : resolve(done(signature))));
  });
}

export interface CompactJws {
  header: Record<string, unknown>;
  /** The first two segments and the dot between them (what was signed). */
  signingInput: string;
  /** The second and third segments, still encoded. */
  payloadSegment: string;
  signatureSegment: string;
}

/**
 * Splits a compact JWS into exactly three segments and decodes the header, which must be
 * canonical base64url (below) of a UTF-8 JSON object. Throws JwsError('malformed').
 */
export function parseCompact(token: unknown): CompactJws {
  if (typeof token !== 'string') throw new JwsError('malformed', 'token is not a JWS compact serialization');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwsError('malformed', 'token is not a JWS compact serialization');
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
  const header = decodeJsonObject(decodeSegment(headerSegment, 'header'), 'JWS Protected Header');
  return { header, signingInput: `${headerSegment}.${payloadSegment}`, payloadSegment, signatureSegment };
}

/**
 * Decodes the payload and signature segments (canonical base64url, else 'malformed'), checks
 * the signature with `key` under `alg` — the caller pins alg to the key's, never the token's —
 * and only then parses the payload, which must be a UTF-8 JSON object ('malformed'). A wrong
 * signature, or an ES256 one that is not 64 bytes, is 'invalid_signature'.
 */
export async function verifyCompact(jws: CompactJws, alg: JwsAlg, key: KeyObject): Promise<Record<string, unknown>> {
  const payload = decodeSegment(jws.payloadSegment, 'payload');
  const signature = decodeSegment(jws.signatureSegment, 'signature');
  // An ECDSA signature of any other length cannot be valid (and OpenSSL is never asked).
  if (alg === 'ES256' && signature.length !== ES256_SIGNATURE_BYTES) throw new JwsError('invalid_signature', 'signature verification failed');
  const data = Buffer.from(jws.signingInput, 'latin1'); // checked base64url and '.': ASCII
  let valid: boolean;
  try {
    valid = VERIFY_ON_POOL[alg] && threadPool.hasFreeThread()
      ? await new Promise<boolean>((resolve, reject) => cryptoVerify('sha256', data, keyFor(alg, key), signature, (err, ok) => (err ? reject(err) : resolve(ok))))
      : cryptoVerify('sha256', data, keyFor(alg, key), signature);
  } catch {
    valid = false; // e.g. an RSA signature of the wrong length: OpenSSL errors rather than says no
  }
  if (!valid) throw new JwsError('invalid_signature', 'signature verification failed');
  return decodeJsonObject(payload, 'JWT Claims Set');
}

export interface ClaimChecks {
  issuer: string;
  audience?: string | readonly string[];
  /** Tolerance for `nbf` (and, unless expToleranceSeconds is given, `exp`), as jose's clockTolerance. */
  clockToleranceSeconds: number;
  /**
   * Tolerance for `exp` alone, when it must differ from the clock tolerance: the issuer checks
   * its own tokens' `exp` with none (tokens/access-token-expiry.ts). Defaults to clockToleranceSeconds.
   */
  expToleranceSeconds?: number;
  currentDate: Date;
}

/**
 * jose's validateClaimsSet for requiredClaims ['exp', 'iat'], `issuer`, optional `audience`,
 * `clockTolerance` and `currentDate`, in its order: presence (iss, aud, iat, exp), iss, aud,
 * iat is a number, nbf (a number, not after now + tolerance), exp (a number; expired when
 * exp <= now - tolerance, with expToleranceSeconds when given). Only an expired exp is
 * 'expired'; everything else 'claim_invalid'.
 */
export function checkClaims(claims: Record<string, unknown>, checks: ClaimChecks): void {
  const tolerance = checks.clockToleranceSeconds;
  const expTolerance = checks.expToleranceSeconds ?? tolerance;
  const now = Math.floor(checks.currentDate.getTime() / 1000);
  // jose throws a TypeError on these, which KeyStore reported as 'malformed'.
  for (const t of [tolerance, expTolerance]) {
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new JwsError('malformed', 'Invalid clockTolerance option input');
  }
  if (!Number.isFinite(now)) throw new JwsError('malformed', 'Invalid currentDate option input');

  const required = checks.audience === undefined ? ['iss', 'iat', 'exp'] : ['iss', 'aud', 'iat', 'exp'];
  for (const claim of required) {
    if (!Object.hasOwn(claims, claim)) throw new JwsError('claim_invalid', `missing required "${claim}" claim`);
  }
  if (claims.iss !== checks.issuer) throw new JwsError('claim_invalid', 'unexpected "iss" claim value');
  if (checks.audience !== undefined && !audienceMatches(claims.aud, typeof checks.audience === 'string' ? [checks.audience] : checks.audience)) {
    throw new JwsError('claim_invalid', 'unexpected "aud" claim value');
  }
  if (typeof claims.iat !== 'number') throw new JwsError('claim_invalid', '"iat" claim must be a number');
  if (Object.hasOwn(claims, 'nbf')) {
    if (typeof claims.nbf !== 'number') throw new JwsError('claim_invalid', '"nbf" claim must be a number');
    if (claims.nbf > now + tolerance) throw new JwsError('claim_invalid', '"nbf" claim timestamp check failed');
  }
  if (typeof claims.exp !== 'number') throw new JwsError('claim_invalid', '"exp" claim must be a number');
  if (claims.exp <= now - expTolerance) throw new JwsError('expired', 'token has expired'); // KeyStore's message for it before
}

/** jose's checkAudiencePresence: a string aud must be one of `expected`; an array must share one. */
function audienceMatches(aud: unknown, expected: readonly string[]): boolean {
  if (typeof aud === 'string') return expected.includes(aud);
  if (Array.isArray(aud)) return expected.some((a) => aud.includes(a));
  return false;
}

/**
 * Strict base64url (RFC 7515 §2: unpadded): Buffer.from skips characters outside the alphabet
 * and takes padding, so a segment is accepted only when re-encoding its bytes gives it back
 * unchanged — which holds exactly for canonical, unpadded base64url. Stricter than jose, whose
 * atob-based decoding (on Node 20) also took padding, whitespace and non-zero trailing bits.
 */
function decodeSegment(segment: string, what: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw new JwsError('malformed', `the JWS ${what} is not base64url`);
  return bytes;
}

function decodeJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    if (!isUtf8(bytes)) throw new Error('not UTF-8');
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new JwsError('malformed', `${what} is not valid JSON`);
  }
  if (!isPlainObject(value)) throw new JwsError('malformed', `${what} must be a top-level JSON object`);
  return value;
}

/** jose's isObject: a plain object (of any realm) or one without a prototype; not an array, not a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}
