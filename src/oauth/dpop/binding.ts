/**
 * Grants bound to a DPoP key: a public client's refresh-token family (RFC 9449 §5) and an
 * authorization code requested with `dpop_jkt` (§10) are usable only with a proof by that key.
 */
import { constantTimeEqual } from '../../shared/crypto';

/**
 * Why a request whose proof key is `proofJkt` (undefined: no proof) may not use a grant bound
 * to `boundJkt` (null: unbound); null when it may. For the logs only: clients get invalid_grant.
 */
export function proofKeyMismatch(
  boundJkt: string | null,
  proofJkt: string | undefined,
): string | null {
  if (boundJkt === null) return null;
  if (proofJkt === undefined) return 'the grant is DPoP-bound and the request carried no proof';
  return constantTimeEqual(boundJkt, proofJkt) ? null : 'the grant is DPoP-bound to another key';
}
