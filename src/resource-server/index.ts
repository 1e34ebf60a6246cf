/**
 * `tessera/resource-server`: what an API needs to accept Tessera access tokens (RFC 9068)
 * without calling the issuer on every request. It depends only on jose (and Koa's types):
 * nothing here imports the server's internals, so it can ship to APIs on its own.
 * See docs/resource-servers.md.
 */
export {
  requireAccessToken,
  requireScopes,
  requireRoles,
  bearerToken,
  type AccessTokenState,
  type RequireAccessTokenOptions,
} from './middleware';
export {
  verifyAccessToken,
  normaliseTyp,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  type AccessTokenClaims,
  type VerifiedAccessToken,
  type VerifyAccessTokenOptions,
} from './verify';
export {
  IssuerKeys,
  SUPPORTED_ALGS,
  DEFAULT_COOLDOWN_SECONDS,
  type AccessTokenAlg,
  type IssuerKeysOptions,
  type IssuerMetadata,
  type ResolvedKey,
} from './issuer-keys';
export {
  introspect,
  requireActive,
  type IntrospectionCredentials,
  type IntrospectionResult,
} from './introspection';
export {
  AccessTokenError,
  IssuerUnavailableError,
  type BearerErrorCode,
  type RejectionReason,
} from './errors';
export {
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  buildProtectedResourceMetadata,
  PROTECTED_RESOURCE_WELL_KNOWN,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
} from './protected-resource';
export {
  verifyDpopProof,
  accessTokenHash,
  jwkThumbprint,
  DpopProofError,
  DPOP_ALGS,
  type DpopAlg,
  type DpopFailure,
  type DpopProofCheck,
  type VerifiedDpopProof,
} from './dpop';
export { DpopNonces, DEFAULT_NONCE_WINDOW_SECONDS, type DpopNonceOptions } from './dpop-nonce';
export { MemoryProofLog, type ResourceDpopOptions } from './dpop-binding';
export type { FetchLike } from './http-fetch';
