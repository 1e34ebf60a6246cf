/**
 * `id_token_hint` (OIDC Core §3.1.2.1, RP-Initiated Logout §2): an ID token we issued earlier,
 * proving which user (and client) the relying party means. It must carry our signature, our
 * issuer and typ JWT; it may have expired — the hint is about identity, not access, and both
 * specs expect old ID tokens to be sent here (RP-Initiated Logout 1.0 §2: the OP "SHOULD accept
 * ID Tokens … even when the exp time has passed"). What a hint may then prove is the caller's
 * decision: /session/end acts without asking only when its `sid` is the current session.
 * Anything we did not sign, or that is no JWT at all, is null — never an exception.
 */
import { decodeJwt } from 'jose';
import { TokenVerificationError, type KeyStore } from '../../keys/key-store';

export interface IdTokenHint {
  sub: string;
  /** Audiences (client ids) the ID token was issued to. */
  aud: string[];
  /** The browser session the ID token was issued in (absent for the password grant's). */
  sid?: string;
}

export async function verifyIdTokenHint(
  keyStore: KeyStore,
  token: string,
  issuer: string,
  clockToleranceSeconds: number,
): Promise<IdTokenHint | null> {
  if (token.length > 8192) return null;
  const options = { typ: 'JWT', issuer, clockToleranceSeconds };
  let payload;
  try {
    ({ payload } = await keyStore.verify(token, options));
  } catch (err) {
    if (!(err instanceof TokenVerificationError) || err.code !== 'expired') return null;
    // Expired: check everything else as of a moment before expiry (signature, iss, typ again).
    try {
      const exp = decodeJwt(token).exp;
      if (typeof exp !== 'number') return null;
      ({ payload } = await keyStore.verify(token, {
        ...options,
        currentDate: new Date((exp - 1) * 1000),
      }));
    } catch {
      return null;
    }
  }
  if (typeof payload.sub !== 'string' || !payload.sub) return null;
  const aud =
    typeof payload.aud === 'string'
      ? [payload.aud]
      : Array.isArray(payload.aud)
        ? payload.aud.filter((a): a is string => typeof a === 'string')
        : [];
  if (!aud.length) return null;
  return {
    sub: payload.sub,
    aud,
    ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}),
  };
}
