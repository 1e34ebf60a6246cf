/**
 * Access tokens at Tessera's own protected resource (/userinfo), Bearer (RFC 6750) or DPoP
 * (RFC 9449 §7): a token bound to a DPoP key (`cnf.jkt`) is accepted only with the `DPoP`
 * authorization scheme and a proof by that key for this request and this token (`ath`); a
 * bound token sent as Bearer is refused (§7.1: it would turn a sender-constrained token back
 * into a bearer one). Refusals are 401s with a `WWW-Authenticate: DPoP` challenge naming the
 * accepted algorithms (§7.1), and for a missing or stale nonce the nonce to use (§9).
 */
import { DPOP_ALGS, DpopProofError } from '../../resource-server/dpop';
import { challengeOf, extractBearerToken, type BearerSources } from '../bearer';
import { OAuthError } from '../errors';
import type { DpopProofs, ProofRequest } from './proofs';

export interface PresentedAccessToken {
  token: string;
  /** The authorization scheme it came with (the body's access_token counts as Bearer). */
  scheme: 'Bearer' | 'DPoP';
}

/** RFC 9449 §7.1: `Authorization: DPoP <token68>`. */
const DPOP_CREDENTIALS = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The access token of a request, as `DPoP` credentials or as a bearer token (bearer.ts). */
export function extractAccessToken(src: BearerSources): PresentedAccessToken {
  const header = src.authorization?.trim() ? src.authorization : undefined;
  if (header !== undefined && /^DPoP\b/i.test(header)) {
    const match = DPOP_CREDENTIALS.exec(header);
    if (!match) throw dpopError('invalid_request', 400, 'Malformed DPoP credentials');
    if (src.body?.access_token !== undefined || src.query?.has('access_token'))
      throw dpopError('invalid_request', 400, 'Send the access token in one place only');
    return { token: match[1]!, scheme: 'DPoP' };
  }
  return { token: extractBearerToken(src), scheme: 'Bearer' };
}

/**
 * Checks the token's sender constraint for the request (§7.1); resolves with a nonce to hand
 * out (DPoP-Nonce) when the client should move to a newer one.
 */
export async function checkSenderConstraint(
  dpop: DpopProofs,
  presented: PresentedAccessToken,
  boundJkt: string | undefined,
  request: Omit<ProofRequest, 'accessToken'>,
): Promise<{ nextNonce: string | undefined }> {
  if (boundJkt === undefined) {
    if (presented.scheme === 'DPoP')
      throw dpopError(
        'invalid_token',
        401,
        'The access token is not DPoP-bound; send it as Bearer',
      );
    return { nextNonce: undefined };
  }
  if (presented.scheme !== 'DPoP')
    throw dpopError(
      'invalid_token',
      401,
      'The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof',
    );
  let proof;
  try {
    proof = await dpop.verify({ ...request, accessToken: presented.token });
  } catch (err) {
    if (!(err instanceof DpopProofError)) throw err;
    const nonce = err.error === 'use_dpop_nonce' ? dpop.nonces?.current() : undefined;
    throw dpopError(err.error, 401, err.message, nonce, err);
  }
  // §4.3 item 12: the proof's key is the one the token is bound to.
  if (proof.jkt !== boundJkt)
    throw dpopError('invalid_dpop_proof', 401, 'The DPoP proof key does not match the token');
  return { nextNonce: proof.staleNonce ? dpop.nonces?.current() : undefined };
}

/** A refusal with its `WWW-Authenticate: DPoP` challenge (and the nonce to use, if any). */
export function dpopError(
  error: string,
  status: number,
  description: string,
  nonce?: string,
  cause?: unknown,
): OAuthError {
  // §7.1: `algs` names the proof algorithms accepted (the same list as discovery's).
  const challenge = challengeOf('DPoP', {
    error,
    error_description: description,
    algs: DPOP_ALGS.join(' '),
  });
  return new OAuthError(error, status, description, {
    cause,
    headers: { 'WWW-Authenticate': challenge, ...(nonce ? { 'DPoP-Nonce': nonce } : {}) },
  });
}
