/** Which algorithm signs a client's tokens: its own choice, else the configured default. */
import type { ClientRecord } from '../clients/client-storage';
import type { SigningAlg } from '../keys/algorithms';

export function signingAlgFor(
  client: Pick<ClientRecord, 'signingAlg'>,
  defaultAlg: SigningAlg,
): SigningAlg {
  return client.signingAlg ?? defaultAlg;
}
