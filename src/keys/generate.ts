/** Generates signing key pairs; the kid is the RFC 7638 JWK thumbprint of the public key. */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SigningAlg } from './algorithms';

export interface GeneratedKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function generateSigningKey(alg: SigningAlg): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
  });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, alg, publicJwk: publicOnly(publicJwk), privateJwk };
}

/** The members a verifier needs, and nothing else (never d, p, q, dp, dq, qi, k). */
export function publicOnly(jwk: JWK): JWK {
  return jwk.kty === 'RSA'
    ? { kty: 'RSA', n: jwk.n!, e: jwk.e! }
    : { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
}
