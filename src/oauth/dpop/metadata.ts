/** The discovery field of DPoP (RFC 9449 §5.1), added to the document by the route table. */
import type { MetadataExtension } from '../metadata';
import type { DpopProofs } from './proofs';

export function dpopMetadata(dpop: Pick<DpopProofs, 'algorithms'>): MetadataExtension {
  return { set: { dpop_signing_alg_values_supported: [...dpop.algorithms] } };
}
