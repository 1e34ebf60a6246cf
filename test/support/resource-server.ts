/**
 * Shared arrangements for the resource-server tests: a live Tessera, the example API in
 * process, tokens minted by Tessera's real key store, and forged tokens (real private key
 * with hostile headers, or an attacker's key) built with jose.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  base64url,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import { createExampleApi, type ExampleApiOptions } from '../../examples/api/server';
import { open } from '../../src/keys/envelope';
import { createKey } from '../../src/keys/lifecycle';
import type { SigningAlg } from '../../src/keys/algorithms';
import type { TestServer } from './server';

export const AUDIENCE = 'https://api.example.test';

/** RFC 9068 §2.2 claims as Tessera mints them, valid now by the server's clock. */
export function accessClaims(server: TestServer, overrides: JWTPayload = {}): JWTPayload {
  const now = server.clock.epochSeconds();
  return {
    iss: server.config.issuer,
    sub: 'user-1',
    aud: AUDIENCE,
    client_id: 'client-1',
    scope: 'api profile',
    roles: ['reader'],
    iat: now,
    exp: now + 600,
    jti: randomUUID(),
    ...overrides,
  };
}

/** A token signed by Tessera's key store (its active key for `alg`). */
export function mint(
  server: TestServer,
  overrides: JWTPayload = {},
  options: { alg?: SigningAlg; typ?: string } = {},
): Promise<string> {
  return server.services.keyStore.sign(
    options.alg ?? 'RS256',
    options.typ ?? 'at+jwt',
    accessClaims(server, overrides),
  );
}

/** The active key's private half, to forge tokens that differ from a real one only in the header. */
export async function activePrivateKey(
  server: TestServer,
  alg: SigningAlg = 'RS256',
): Promise<{ kid: string; key: CryptoKey | KeyObject; publicJwk: JWK }> {
  const kid = server.services.keyStore.activeKid(alg);
  const record = (await server.services.signingKeys.listPublished()).find((k) => k.kid === kid);
  if (!record?.privateKeyCipher) throw new Error(`no active ${alg} key`);
  const jwk = JSON.parse(
    open(server.services.keks, record.kekId, record.kid, record.privateKeyCipher).toString('utf8'),
  ) as JWK;
  return {
    kid: record.kid,
    key: (await importJWK(jwk, alg)) as CryptoKey | KeyObject,
    publicJwk: record.publicJwk,
  };
}

export async function attackerKey(alg: 'RS256' | 'ES256' = 'RS256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

export function signWith(
  key: CryptoKey | KeyObject | Uint8Array,
  header: Record<string, unknown>,
  payload: JWTPayload,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
}

/**
 * Signs RS256 without jose's header checks, for headers jose refuses to produce (e.g. `crit`
 * naming an extension nobody implements).
 */
export async function signRawRs256(
  key: CryptoKey | KeyObject,
  header: Record<string, unknown>,
  payload: JWTPayload,
): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  const sig = await crypto.subtle.sign(
    'RSASSA-PKCS1-v1_5',
    key as CryptoKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64url.encode(new Uint8Array(sig))}`;
}

/** `header.payload.signature` with a hand-written header (for alg "none"). */
export function unsigned(
  header: Record<string, unknown>,
  payload: JWTPayload,
  signature = '',
): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc(header)}.${enc(payload)}.${signature}`;
}

/**
 * Replaces the active key for `alg` with a brand-new one (the old one keeps verifying as
 * "retiring"), the way an emergency rotation does, and reloads the key store. Returns both kids.
 */
export async function rotateToNewKey(
  server: TestServer,
  alg: SigningAlg = 'RS256',
): Promise<{ oldKid: string; newKid: string }> {
  const oldKid = server.services.keyStore.activeKid(alg)!;
  const now = server.clock.now();
  const newKid = await server.services.signingKeys.locked(async (tx) => {
    await tx.transition(oldKid, 'active', { state: 'retiring', retiringAt: now });
    return createKey(tx, server.services.keks[0]!, alg, 'active', now);
  });
  await server.services.keyStore.load();
  return { oldKid, newKid };
}

/** Retires a key: unpublished, private part destroyed. */
export async function retireKey(server: TestServer, kid: string): Promise<void> {
  await server.services.signingKeys.locked((tx) =>
    tx.update(kid, { state: 'retired', privateKeyCipher: null, retiredAt: server.clock.now() }),
  );
  await server.services.keyStore.load();
}

/** A fetch that counts what it asked for (JWKS, discovery, introspection). */
export function countingFetch() {
  const calls: string[] = [];
  const fn = (input: string, init?: RequestInit) => {
    calls.push(input);
    return fetch(input, init);
  };
  return {
    fetch: fn,
    calls,
    count: (suffix: string) => calls.filter((u) => u.endsWith(suffix)).length,
  };
}

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** The example API (examples/api/server.ts) on a free port, reading time from Tessera's clock. */
export async function startApi(
  server: TestServer,
  options: Partial<ExampleApiOptions> = {},
): Promise<RunningApi> {
  const app = createExampleApi({
    issuer: server.config.issuer,
    audience: AUDIENCE,
    now: () => server.clock.now().getTime(),
    ...options,
  });
  const http: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => http.close(() => r())),
  };
}

export function call(api: RunningApi, path: string, token?: string): Promise<Response> {
  return fetch(
    `${api.url}${path}`,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  );
}

/** Parses `Bearer realm="x", error="y"` into its attributes. */
export function challengeOf(res: Response): Record<string, string> {
  const header = res.headers.get('www-authenticate') ?? '';
  if (!header.startsWith('Bearer ')) return {};
  return Object.fromEntries(
    [...header.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
  );
}
