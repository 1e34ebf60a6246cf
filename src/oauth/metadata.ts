/**
 * The authorization-server metadata (RFC 8414 §2) that is also the OpenID Provider metadata
 * (OIDC Discovery 1.0 §3), built once from the frozen config.
 *
 * Only what is implemented is advertised: a relying party that reads a value here will use it.
 * Features added later (the authorization endpoint, PKCE, RP-initiated logout) extend the
 * document through `MetadataExtension`s passed by the route table, so this file stays the one
 * place the document's shape is defined and the issue that adds a feature also adds its fields.
 */
import { CLIENT_AUTH_SIGNING_ALGS } from '../clients/client-jwks';
import { REQUEST_OBJECT_ALGS } from './authorization/request-object';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../clients/client-storage';
import type { Config } from '../config';
import { OIDC_SCOPES, SUPPORTED_CLAIMS } from '../tokens/claims';
import { SUPPORTED_GRANT_TYPES } from './grants';

/** The subset of the config the document depends on. */
export type MetadataConfig = Pick<Config, 'issuer' | 'SIGNING_ALGS'>;

/** RFC 8414 §2 / OIDC Discovery §3 fields; values are JSON. */
export type ServerMetadata = Record<string, string | boolean | readonly string[]>;

/**
 * Adds or replaces fields for a feature that is switched on. Array fields listed in
 * `append` are merged with (not replacing) what is already there, e.g. a new grant type.
 */
export interface MetadataExtension {
  set?: ServerMetadata;
  append?: Record<string, readonly string[]>;
}

/**
 * Builds the metadata. `issuer` is the config's issuer string exactly (OIDC Discovery §4.3:
 * it must be identical to the `iss` of every token), and every endpoint is an absolute URL
 * under it.
 */
export function buildServerMetadata(
  config: MetadataConfig,
  extensions: readonly MetadataExtension[] = [],
): ServerMetadata {
  const url = (path: string) => `${config.issuer}${path}`;
  // The methods client authentication implements: secrets in the Authorization header
  // (RFC 6749 §2.3.1) or the form body, JWT assertions (RFC 7523: private_key_jwt,
  // client_secret_jwt), and "none" (client_id alone) for public clients.
  const withCredentials = TOKEN_ENDPOINT_AUTH_METHODS.filter((m) => m !== 'none');
  const doc: ServerMetadata = {
    issuer: config.issuer,
    token_endpoint: url('/token'),
    jwks_uri: url('/.well-known/jwks.json'),
    userinfo_endpoint: url('/userinfo'),
    revocation_endpoint: url('/revoke'),
    introspection_endpoint: url('/introspect'),
    // The grant registry is the source of truth: a grant is advertised iff /token dispatches it.
    grant_types_supported: [...SUPPORTED_GRANT_TYPES],
    // Until the authorization endpoint exists no response type is supported; RFC 8414 §2
    // makes response_types_supported REQUIRED, so an empty list is the honest value.
    response_types_supported: [],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    // RFC 7009 §2.1: public clients may revoke their own tokens by client_id.
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    // RFC 7662 §2.1 requires authorization to call introspection: confidential clients only.
    introspection_endpoint_auth_methods_supported: withCredentials,
    // RFC 8414 §2: the algorithms of client_assertion at each endpoint (never "none").
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_AUTH_SIGNING_ALGS],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_AUTH_SIGNING_ALGS],
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_AUTH_SIGNING_ALGS],
    id_token_signing_alg_values_supported: [...config.SIGNING_ALGS],
    scopes_supported: [...OIDC_SCOPES],
    claims_supported: [...SUPPORTED_CLAIMS],
    subject_types_supported: ['public'],
    // RFC 9101 (and OIDC Core §6.1): signed request objects, by value or pushed; never by
    // reference to another URL (request_uri_parameter_supported stays false).
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: [...REQUEST_OBJECT_ALGS],
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
  for (const ext of extensions) {
    Object.assign(doc, ext.set ?? {});
    for (const [key, values] of Object.entries(ext.append ?? {})) {
      const current = doc[key];
      const base = Array.isArray(current) ? (current as readonly string[]) : [];
      doc[key] = [...new Set([...base, ...values])];
    }
  }
  return Object.freeze(doc);
}
