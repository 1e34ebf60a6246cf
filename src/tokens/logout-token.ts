/**
 * Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4): a JWT the OP POSTs to a relying
 * party's `backchannel_logout_uri` when the user's session with it ends. Signed like the
 * client's ID tokens (§2.6: the RP validates it as it validates an ID token), with
 * `typ: logout+jwt` (§2.4, and RFC 8725 §3.11: explicit typing, so a logout token can never
 * pass for an ID token or the reverse). It carries `iss`, `aud` (the client), `iat`, a short
 * `exp`, `jti`, the back-channel `events` member, `sub` always and `sid` when the session is
 * known — and never a `nonce` (§2.4: prohibited, so it cannot be replayed as an ID token).
 */
import type { JWTPayload } from 'jose';
import type { KeyStore } from '../keys/key-store';
import type { ClientRecord } from '../clients/client-storage';
import type { SigningAlg } from '../keys/algorithms';
import { signingAlgFor } from './signing';

export const LOGOUT_TOKEN_TYP = 'logout+jwt';
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Seconds a logout token is valid: it is signed just before each attempt to deliver it. */
export const LOGOUT_TOKEN_TTL = 120;

export interface LogoutTokenInput {
  issuer: string;
  client: Pick<ClientRecord, 'id' | 'signingAlg'>;
  /** The user (`sub`). */
  userId: string;
  /** The browser session (`sid`); null outside one. */
  sessionId: string | null;
  /** Unique per logout event; retries of one event keep it, so an RP can tell a repeat. */
  jti: string;
  /** Seconds since the epoch. */
  now: number;
  defaultAlg: SigningAlg;
}

export async function mintLogoutToken(
  keyStore: Pick<KeyStore, 'sign'>,
  input: LogoutTokenInput,
): Promise<string> {
  const payload: JWTPayload = {
    iss: input.issuer,
    sub: input.userId,
    aud: input.client.id,
    iat: input.now,
    exp: input.now + LOGOUT_TOKEN_TTL,
    jti: input.jti,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  };
  if (input.sessionId) payload.sid = input.sessionId;
  return keyStore.sign(signingAlgFor(input.client, input.defaultAlg), LOGOUT_TOKEN_TYP, payload);
}
