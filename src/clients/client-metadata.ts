/**
 * A client's registration as an RFC 7591 §2 client-metadata document: the one schema behind
 * `tessera clients create|update --metadata`, the CLI's flags (mapped onto it) and, later,
 * dynamic registration and the admin API. Standard names where a standard has one
 * (RFC 7591, OpenID Connect Dynamic Registration §2, RP-Initiated Logout §3.1); Tessera's own
 * where none exists (`first_party`, `audiences`, the token lifetimes, `token_exchange`).
 *
 * Any unknown field is refused rather than stored and silently ignored: a typo such as
 * `redirect_uri` must not register a client without its redirect URIs.
 */
import { z } from 'zod';
import { REQUEST_OBJECT_ALGS } from '../oauth/authorization/request-object';
import { DEVELOPMENT_HOSTS, redirectUriSchema } from '../oauth/authorization/redirect-uri';
import { isScopeToken, splitScope } from '../oauth/scope';
import { SIGNING_ALGS, type SigningAlg } from '../keys/algorithms';
import {
  CLIENT_AUTH_SIGNING_ALGS,
  CLIENT_SECRET_ALGS,
  jwksProblems,
  MAX_CLIENT_KEYS,
} from './client-jwks';
import {
  GRANT_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ClientRecord,
  type TokenEndpointAuthMethod,
} from './client-storage';
import {
  exchangePolicyOf,
  policyMetadataOf,
  TOKEN_EXCHANGE,
  tokenExchangeSchema,
} from './token-exchange-policy';

/** Used when a document names no scope (RFC 7591 §2 lets the server choose). */
export const DEFAULT_CLIENT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

const scopeString = z
  .string()
  .max(2048)
  .refine(
    (s) => splitScope(s).every(isScopeToken),
    'scope tokens are printable ASCII without spaces, quotes or backslashes',
  );

/** A page of the client's shown to users: https, or http on a loopback host (development). */
const webPageUrl = z
  .string()
  .max(2000)
  .refine((value) => {
    try {
      const url = new URL(value);
      if (url.username || url.password) return false;
      if (url.protocol === 'https:') return true;
      return url.protocol === 'http:' && DEVELOPMENT_HOSTS.includes(url.hostname);
    } catch {
      return false;
    }
  }, 'must be an https URL (http only on localhost) without user or password');

const seconds = z.number().int().min(1).max(31_536_000).optional();

/** RFC 7591 §2 `jwks`: the client's public keys (client-jwks.ts says which are accepted). */
const jwksSchema = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_CLIENT_KEYS) })
  .strict()
  .superRefine((set, ctx) => {
    for (const message of jwksProblems(set)) ctx.addIssue({ code: 'custom', message });
  });

/**
 * RFC 7591 §2 `jwks_uri`: https (fetched under the outbound-request policy); http only on a
 * loopback host, and then only fetched when OUTBOUND_ALLOW_PRIVATE is on (admin/clients.ts).
 */
const jwksUriSchema = z
  .string()
  .max(2000)
  .refine((value) => {
    try {
      const url = new URL(value);
      if (url.username || url.password || url.hash) return false;
      if (url.protocol === 'https:') return true;
      return url.protocol === 'http:' && DEVELOPMENT_HOSTS.includes(url.hostname);
    } catch {
      return false;
    }
  }, 'must be an https URL (http only on a loopback host) without user, password or fragment');

/** Fields of a registration response (RFC 7591 §3.2.1) an update may carry back unchanged. */
export const RESPONSE_ONLY_FIELDS = [
  'client_id',
  'client_id_issued_at',
  'client_secret_expires_at',
] as const;

export const clientMetadataSchema = z
  .object({
    client_name: z.string().trim().min(1).max(200),
    redirect_uris: z.array(redirectUriSchema).max(50).default([]),
    post_logout_redirect_uris: z.array(redirectUriSchema).max(50).default([]),
    grant_types: z.array(z.enum(GRANT_TYPES)).min(1).max(10).default(['authorization_code']),
    response_types: z
      .array(z.enum(['code']))
      .max(1)
      .optional(),
    scope: scopeString.optional(),
    token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).default('client_secret_basic'),
    id_token_signed_response_alg: z.enum(SIGNING_ALGS as [SigningAlg, ...SigningAlg[]]).optional(),
    client_uri: webPageUrl.optional(),
    logo_uri: webPageUrl.optional(),
    first_party: z.boolean().default(false),
    audiences: z.array(z.string().min(1).max(500)).max(20).default([]),
    access_token_ttl: seconds,
    id_token_ttl: seconds,
    refresh_token_ttl: seconds,
    refresh_token_idle_ttl: seconds,
    require_pushed_authorization_requests: z.boolean().default(false),
    require_signed_request_object: z.boolean().default(false),
    request_object_signing_alg: z
      .enum(REQUEST_OBJECT_ALGS, { error: `must be one of ${REQUEST_OBJECT_ALGS.join(', ')}` })
      .optional(),
    jwks: jwksSchema.optional(),
    jwks_uri: jwksUriSchema.optional(),
    token_endpoint_auth_signing_alg: z
      .enum(CLIENT_AUTH_SIGNING_ALGS, {
        error: `must be one of ${CLIENT_AUTH_SIGNING_ALGS.join(', ')}`,
      })
      .optional(),
    // RFC 9449 §5.2: every token request of the client must carry a DPoP proof.
    dpop_bound_access_tokens: z.boolean().default(false),
    token_exchange: tokenExchangeSchema.optional(),
    // Back-Channel Logout 1.0 §2.2: called under the outbound-request policy, like jwks_uri.
    backchannel_logout_uri: jwksUriSchema.optional(),
    backchannel_logout_session_required: z.boolean().default(false),
  })
  .strict()
  .superRefine((m, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    const grants = new Set(m.grant_types);
    const isPublic = m.token_endpoint_auth_method === 'none';
    if (grants.has('password') && !m.first_party)
      issue('grant_types', 'the password grant is for first-party clients only (first_party)');
    if (grants.has('client_credentials') && isPublic)
      issue(
        'grant_types',
        'a public client (token_endpoint_auth_method none) cannot use client_credentials',
      );
    // RFC 8693 §2.1: the exchange authenticates the client; a public one proves nothing.
    if (grants.has(TOKEN_EXCHANGE) && isPublic)
      issue(
        'grant_types',
        'a public client (token_endpoint_auth_method none) cannot use token exchange',
      );
    if (grants.has(TOKEN_EXCHANGE) && !m.token_exchange)
      issue('token_exchange', 'token exchange needs a policy: token_exchange.audiences');
    if (m.token_exchange && !grants.has(TOKEN_EXCHANGE))
      issue('token_exchange', `applies only with ${TOKEN_EXCHANGE} in grant_types`);
    if (grants.has('authorization_code') && m.redirect_uris.length === 0)
      issue('redirect_uris', 'authorization_code needs at least one redirect URI');
    // RFC 9101 §10.5: request objects are checked against the client's registered keys.
    if ((m.require_signed_request_object || m.request_object_signing_alg) && !m.jwks && !m.jwks_uri)
      issue(
        m.require_signed_request_object
          ? 'require_signed_request_object'
          : 'request_object_signing_alg',
        'signed request objects need the client keys: jwks or jwks_uri',
      );
    // RFC 7591 §2: jwks and jwks_uri MUST NOT both be present.
    if (m.jwks && m.jwks_uri) issue('jwks_uri', 'give jwks or jwks_uri, not both');
    const method = m.token_endpoint_auth_method;
    if (method === 'private_key_jwt' && !m.jwks && !m.jwks_uri)
      issue(
        'token_endpoint_auth_method',
        'private_key_jwt needs the client keys: jwks or jwks_uri',
      );
    const alg = m.token_endpoint_auth_signing_alg;
    if (alg !== undefined) {
      const mac = (CLIENT_SECRET_ALGS as readonly string[]).includes(alg);
      if (method !== 'private_key_jwt' && method !== 'client_secret_jwt')
        issue(
          'token_endpoint_auth_signing_alg',
          'applies only to token_endpoint_auth_method private_key_jwt or client_secret_jwt',
        );
      else if (mac !== (method === 'client_secret_jwt'))
        issue(
          'token_endpoint_auth_signing_alg',
          mac
            ? 'HS256 is for client_secret_jwt; private_key_jwt signs with RS256, PS256, ES256 or EdDSA'
            : 'client_secret_jwt signs with HS256',
        );
    }
    if (m.backchannel_logout_session_required && !m.backchannel_logout_uri)
      issue('backchannel_logout_session_required', 'applies only with a backchannel_logout_uri');
    // RFC 7591 §2.1: grant_types and response_types must agree.
    if (m.response_types) {
      const code = m.response_types.includes('code');
      if (code !== grants.has('authorization_code'))
        issue(
          'response_types',
          code
            ? 'code needs authorization_code in grant_types'
            : 'authorization_code in grant_types needs code in response_types',
        );
    }
  });

export type ClientMetadataInput = z.input<typeof clientMetadataSchema>;
export type ClientMetadata = z.output<typeof clientMetadataSchema>;

/** The client record's settings a metadata document determines. */
export type ClientSettings = Omit<
  ClientRecord,
  | 'id'
  | 'secretHash'
  | 'secretCiphertext'
  | 'registrationTokenHash'
  | 'registrant'
  | 'disabled'
  | 'createdAt'
  | 'updatedAt'
>;

/** What a valid document registers. */
export function settingsFromMetadata(m: ClientMetadata): ClientSettings {
  return {
    name: m.client_name,
    isPublic: m.token_endpoint_auth_method === 'none',
    tokenEndpointAuthMethod: m.token_endpoint_auth_method,
    firstParty: m.first_party,
    redirectUris: m.redirect_uris,
    postLogoutRedirectUris: m.post_logout_redirect_uris,
    grantTypes: [...new Set(m.grant_types)],
    scopes: m.scope === undefined ? DEFAULT_CLIENT_SCOPES : splitScope(m.scope),
    audiences: m.audiences,
    signingAlg: m.id_token_signed_response_alg ?? null,
    accessTokenTtl: m.access_token_ttl ?? null,
    idTokenTtl: m.id_token_ttl ?? null,
    refreshTokenTtl: m.refresh_token_ttl ?? null,
    refreshTokenIdleTtl: m.refresh_token_idle_ttl ?? null,
    clientUri: m.client_uri ?? null,
    logoUri: m.logo_uri ?? null,
    jwks: m.jwks ?? null,
    jwksUri: m.jwks_uri ?? null,
    tokenEndpointAuthSigningAlg: m.token_endpoint_auth_signing_alg ?? null,
    dpopBoundAccessTokens: m.dpop_bound_access_tokens,
    requirePushedAuthorizationRequests: m.require_pushed_authorization_requests,
    requireSignedRequestObject: m.require_signed_request_object,
    requestObjectSigningAlg: m.request_object_signing_alg ?? null,
    tokenExchange: m.token_exchange ? exchangePolicyOf(m.token_exchange) : null,
    backchannelLogoutUri: m.backchannel_logout_uri ?? null,
    backchannelLogoutSessionRequired: m.backchannel_logout_session_required,
  };
}

/**
 * A client's registration as RFC 7591 §3.2.1 returns it: `client_id`, when it was issued, and
 * every metadata field with its registered value (defaults included), never the secret's hash.
 */
export function metadataOfClient(c: ClientRecord) {
  return {
    client_id: c.id,
    client_id_issued_at: Math.floor(c.createdAt.getTime() / 1000),
    client_name: c.name,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    grant_types: c.grantTypes,
    response_types: c.grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: c.scopes.join(' '),
    token_endpoint_auth_method: authMethodOf(c),
    ...(c.signingAlg ? { id_token_signed_response_alg: c.signingAlg } : {}),
    ...(c.clientUri ? { client_uri: c.clientUri } : {}),
    ...(c.logoUri ? { logo_uri: c.logoUri } : {}),
    first_party: c.firstParty,
    audiences: c.audiences,
    ...(c.accessTokenTtl ? { access_token_ttl: c.accessTokenTtl } : {}),
    ...(c.idTokenTtl ? { id_token_ttl: c.idTokenTtl } : {}),
    ...(c.refreshTokenTtl ? { refresh_token_ttl: c.refreshTokenTtl } : {}),
    ...(c.refreshTokenIdleTtl ? { refresh_token_idle_ttl: c.refreshTokenIdleTtl } : {}),
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
    ...(c.tokenEndpointAuthSigningAlg
      ? { token_endpoint_auth_signing_alg: c.tokenEndpointAuthSigningAlg }
      : {}),
    ...(c.requestObjectSigningAlg ? { request_object_signing_alg: c.requestObjectSigningAlg } : {}),
    dpop_bound_access_tokens: c.dpopBoundAccessTokens,
    require_pushed_authorization_requests: c.requirePushedAuthorizationRequests,
    require_signed_request_object: c.requireSignedRequestObject,
    ...(c.tokenExchange ? { token_exchange: policyMetadataOf(c.tokenExchange) } : {}),
    ...(c.backchannelLogoutUri
      ? {
          backchannel_logout_uri: c.backchannelLogoutUri,
          backchannel_logout_session_required: c.backchannelLogoutSessionRequired,
        }
      : {}),
  };
}

export type ClientMetadataDocument = ReturnType<typeof metadataOfClient>;

/**
 * The method a client authenticates with. A confidential client registered before the method
 * was recorded accepts either secret method and reads as RFC 7591's default.
 */
export function authMethodOf(c: ClientRecord): TokenEndpointAuthMethod {
  return c.tokenEndpointAuthMethod ?? (c.isPublic ? 'none' : 'client_secret_basic');
}
