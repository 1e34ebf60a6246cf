/**
 * The grant registry: every grant type /token understands, one module each. To add a grant,
 * write its module (grantType, zod params, a named handler over the services it uses,
 * `satisfies GrantModule`) and list it here.
 */
import type { GrantType } from '../../clients/client-storage';
import { authorizationCodeGrant } from './authorization-code';
import { clientCredentialsGrant } from './client-credentials';
import { deviceCodeGrant } from './device-code';
import { passwordGrant } from './password';
import { refreshTokenGrant } from './refresh-token';
import { tokenExchangeGrant } from './token-exchange';
import type { GrantModule } from './types';

const grants = [
  passwordGrant,
  refreshTokenGrant,
  clientCredentialsGrant,
  authorizationCodeGrant,
  tokenExchangeGrant,
  deviceCodeGrant,
] satisfies readonly GrantModule[];

export const GRANTS: ReadonlyMap<string, GrantModule> = new Map<string, GrantModule>(
  grants.map((g) => [g.grantType, g]),
);

/** Grant types /token implements (for discovery's grant_types_supported). */
export const SUPPORTED_GRANT_TYPES: readonly GrantType[] = grants.map((g) => g.grantType);
