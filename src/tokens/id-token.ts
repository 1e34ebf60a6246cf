/**
 * OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6, §3.1.3.7): `aud` is the client id, `azp`
 * names the client too (§2: harmless with one audience, and relying parties may check it),
 * `auth_time` and `amr` describe the login, `nonce` is echoed when the authentication
 * request had one, and `at_hash` binds the access token issued alongside (§3.1.3.6: the left
 * half of the hash of the access token, with the hash of the JWS alg — SHA-256 for RS256 and
 * ES256). Profile and email claims follow the granted scopes (claims.ts).
 *
 * `sid` (OpenID Connect Back-Channel Logout 1.0 §2.1, Front-Channel Logout 1.0 §3) names the
 * browser (SSO) session the login happened in: the session's random id, the same for every
 * client of that session and never the cookie's secret (only its hash is stored, and the id
 * opens nothing). RP-initiated logout trusts a hint only when its `sid` is the browser's
 * current session (end-session.ts). Logins outside a browser session (the password grant)
 * carry no `sid`.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { KeyStore } from '../keys/key-store';
import type { ClientRecord } from '../clients/client-storage';
import type { SigningAlg } from '../keys/algorithms';
import type { UserProfile } from '../accounts/user-storage';
import { claimsForScopes } from './claims';
import { signingAlgFor } from './signing';

export const ID_TOKEN_TYP = 'JWT';

/** The hash inside each JWS algorithm we issue (RS256, ES256: SHA-256). */
const HASH_OF_ALG: Record<SigningAlg, string> = { RS256: 'sha256', ES256: 'sha256' };

export interface IdTokenInput {
  issuer: string;
  client: ClientRecord;
  user: UserProfile;
  scopes: readonly string[];
  /** Seconds since the epoch. */
  authTime: number;
  amr: readonly string[];
  nonce?: string | undefined;
  /** The browser session's id, for `sid`; absent outside one. */
  sessionId?: string | null | undefined;
  /** The access token issued in the same response, for at_hash. */
  accessToken?: string | undefined;
  now: number;
  defaultTtlSeconds: number;
  defaultAlg: SigningAlg;
}

/** OIDC Core §3.1.3.6: base64url of the left-most half of the hash of the ASCII token. */
export function leftHalfHash(value: string, alg: SigningAlg): string {
  const digest = createHash(HASH_OF_ALG[alg]).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export async function mintIdToken(
  keyStore: Pick<KeyStore, 'sign'>,
  input: IdTokenInput,
): Promise<string> {
  const alg = signingAlgFor(input.client, input.defaultAlg);
  const ttl = input.client.idTokenTtl ?? input.defaultTtlSeconds;
  const payload: JWTPayload = {
    ...claimsForScopes(input.user, input.scopes),
    iss: input.issuer,
    sub: input.user.id,
    aud: input.client.id,
    azp: input.client.id,
    iat: input.now,
    exp: input.now + ttl,
    auth_time: input.authTime,
  };
  if (input.amr.length > 0) payload.amr = [...input.amr];
  if (input.nonce !== undefined) payload.nonce = input.nonce;
  if (input.sessionId) payload.sid = input.sessionId;
  if (input.accessToken !== undefined) payload.at_hash = leftHalfHash(input.accessToken, alg);
  return keyStore.sign(alg, ID_TOKEN_TYP, payload);
}
