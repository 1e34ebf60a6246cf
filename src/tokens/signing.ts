/** Which algorithm signs a client's tokens: its own choice, else the configured default. */
import type { ClientRecord, SigningAlg } from '../persistence/types';

export function signingAlgFor(client: Pick<ClientRecord, 'signingAlg'>, defaultAlg: SigningAlg): SigningAlg {
  return client.signingAlg ?? defaultAlg;
}
