/**
 * DPoP proofs made by hand (jose), for the checks a relying-party library would never let us
 * get wrong: a replayed jti, another URL or method, an old iat, a private key in the header,
 * alg none or HS256. The happy paths use oauth4webapi's own DPoP instead.
 */
import { randomUUID } from 'node:crypto';
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { accessTokenHash } from '../../src/resource-server/dpop';

export interface ProofKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
  jkt: string;
}

export async function proofKey(
  alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA' = 'ES256',
): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return {
    alg,
    privateKey,
    publicJwk,
    privateJwk: await exportJWK(privateKey),
    jkt: await calculateJwkThumbprint(publicJwk, 'sha256'),
  };
}

export interface ProofOptions {
  htm?: string;
  /** Seconds since the epoch (default now). */
  iat?: number;
  jti?: string;
  accessToken?: string;
  nonce?: string;
  /** Replaces header fields (e.g. a private `jwk`, another `typ`). */
  header?: Record<string, unknown>;
  payload?: JWTPayload;
}

/** A proof for `htu` signed by `key`. */
export function makeProof(key: ProofKey, htu: string, o: ProofOptions = {}): Promise<string> {
  const payload: JWTPayload = {
    jti: o.jti ?? randomUUID(),
    htm: o.htm ?? 'POST',
    htu,
    iat: o.iat ?? Math.floor(Date.now() / 1000),
    ...(o.accessToken === undefined ? {} : { ath: accessTokenHash(o.accessToken) }),
    ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
    ...o.payload,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...o.header })
    .sign(key.privateKey);
}

/** A proof with alg none (no signature), which no verifier may accept. */
export function unsignedProof(key: ProofKey, htu: string): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  const header = { alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk };
  const payload = { jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) };
  return `${enc(header)}.${enc(payload)}.`;
}

/** A proof MACed with HS256 under a symmetric `jwk` in its own header (key confusion). */
export async function hmacProof(htu: string): Promise<string> {
  const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
  const jwk = { kty: 'oct', k: base64url.encode(secret) };
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) })
    .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk })
    .sign(secret);
}

/** The JSON payload of a compact JWS (tests read what the server put in a token). */
export function payloadOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
