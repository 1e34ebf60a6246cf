/**
 * The token endpoint's DPoP step (RFC 9449 §5), run after client authentication and before the
 * grant: a request with a DPoP header must carry a valid proof, whose key the issued access
 * token is then bound to (`cnf.jkt`, token_type DPoP); a client registered with
 * `dpop_bound_access_tokens` (§5.2) must send one. Without a header a request gets Bearer
 * tokens, as before. Errors are the token endpoint's JSON errors: invalid_dpop_proof, or
 * use_dpop_nonce with the nonce to use in `DPoP-Nonce` (§8).
 */
import type { ClientRecord } from '../../clients/client-storage';
import { DpopProofError } from '../../resource-server/dpop';
import { InvalidDpopProof, UseDpopNonce, type OAuthError } from '../errors';
import type { DpopProofs, ProofRequest } from './proofs';

export interface TokenRequestProof {
  /** The proof key's thumbprint; undefined when the request carried no proof. */
  jkt: string | undefined;
  /** A nonce to hand out with the response (DPoP-Nonce), when the client should move to it. */
  nextNonce: string | undefined;
}

export async function tokenRequestProof(
  dpop: DpopProofs,
  client: Pick<ClientRecord, 'dpopBoundAccessTokens'>,
  request: ProofRequest,
): Promise<TokenRequestProof> {
  if (!request.values?.length) {
    // §5.2: dpop_bound_access_tokens — "the client always uses DPoP" for its token requests.
    if (client.dpopBoundAccessTokens)
      throw new InvalidDpopProof('A DPoP proof is required for this client (DPoP header)');
    return { jkt: undefined, nextNonce: undefined };
  }
  try {
    const proof = await dpop.verify(request);
    return { jkt: proof.jkt, nextNonce: proof.staleNonce ? dpop.nonces?.current() : undefined };
  } catch (err) {
    if (err instanceof DpopProofError) throw tokenEndpointError(dpop, err);
    throw err;
  }
}

function tokenEndpointError(dpop: DpopProofs, err: DpopProofError): OAuthError {
  if (err.error === 'use_dpop_nonce' && dpop.nonces)
    return new UseDpopNonce(err.message, {
      cause: err,
      headers: { 'DPoP-Nonce': dpop.nonces.current() },
    });
  return new InvalidDpopProof(err.message, { cause: err });
}
