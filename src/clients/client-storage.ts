/**
 * Registered clients (RFC 6749 §2) and their repository. A module of its own because the
 * token and key layers read a client's settings (TTLs, signing algorithm) as well as oauth/.
 */
import type { SigningAlg } from '../keys/algorithms';

export const GRANT_TYPES = [
  'password',
  'refresh_token',
  'authorization_code',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  // RFC 8628 §3.4: the device authorization grant.
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** RFC 8693 §3: the token types a token exchange takes as its subject token. */
export const EXCHANGE_SUBJECT_TOKEN_TYPES = [
  'urn:ietf:params:oauth:token-type:access_token',
  'urn:ietf:params:oauth:token-type:id_token',
] as const;
export type ExchangeSubjectTokenType = (typeof EXCHANGE_SUBJECT_TOKEN_TYPES)[number];

/**
 * A client's token-exchange policy (RFC 8693 leaves it to the server, §2.2.2 and §5): the
 * audiences it may exchange tokens into, whether it may impersonate (a token without `act`)
 * rather than only delegate, and which subject token types it may present.
 */
export interface TokenExchangePolicy {
  audiences: string[];
  impersonation: boolean;
  subjectTokenTypes: ExchangeSubjectTokenType[];
}

/**
 * How a client authenticates at the token endpoint (RFC 7591 §2, RFC 6749 §2.3), and by JWT
 * assertion (OIDC Core §9, RFC 7523): client_secret_jwt (HS256 with its secret) and
 * private_key_jwt (signed with a key it registered).
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'none',
  'client_secret_jwt',
  'private_key_jwt',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

export interface ClientRecord {
  id: string;
  name: string;
  secretHash: string | null;
  isPublic: boolean;
  /**
   * The one method this client may authenticate with; null for a client registered before it
   * was recorded (either secret method, or none for a public client).
   */
  tokenEndpointAuthMethod: TokenEndpointAuthMethod | null;
  firstParty: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  audiences: string[];
  accessTokenTtl: number | null;
  idTokenTtl: number | null;
  refreshTokenTtl: number | null;
  refreshTokenIdleTtl: number | null;
  signingAlg: SigningAlg | null;
  /** The client's home page and logo (RFC 7591 §2), shown to users. */
  clientUri: string | null;
  logoUri: string | null;
  /** The client's public keys (RFC 7591 §2 `jwks`), or where it publishes them (`jwks_uri`). */
  jwks: ClientJwks | null;
  jwksUri: string | null;
  /** The one algorithm the client's authentication assertions must use; null: any supported. */
  tokenEndpointAuthSigningAlg: string | null;
  /**
   * The client secret itself, envelope-encrypted (keys/envelope.ts), kept only for a client that
   * signs with it (client_secret_jwt); every other client has only `secretHash`.
   */
  secretCiphertext: string | null;
  /** RFC 9449 §5.2: this client's access tokens are issued only with a DPoP proof. */
  dpopBoundAccessTokens: boolean;
  /** RFC 9126 §6: authorization requests only through the pushed-request endpoint. */
  requirePushedAuthorizationRequests: boolean;
  /** RFC 9101 §10.5: authorization requests only as signed request objects. */
  requireSignedRequestObject: boolean;
  /** The one algorithm the client's request objects must use; null: any supported. */
  requestObjectSigningAlg: string | null;
  /**
   * SHA-256 of its RFC 7592 registration access token: set for a client registered through
   * /register, which may then read, update and delete its own registration; null otherwise.
   */
  registrationTokenHash: string | null;
  /** How it registered itself (oauth/registration/): the rules its updates keep to. */
  registrant: unknown;
  /** RFC 8693: what this client may do with token exchange; null: no exchange policy. */
  tokenExchange: TokenExchangePolicy | null;
  /** OpenID Connect Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed; null: none. */
  backchannelLogoutUri: string | null;
  /** §2.2: the client needs `sid` in its logout tokens (so none is sent without a session). */
  backchannelLogoutSessionRequired: boolean;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A JWK Set of public keys (RFC 7517 §5), as registered. */
export interface ClientJwks {
  keys: Record<string, unknown>[];
}

/** Settings a new client may leave out; each has a default (null or false). */
export const OPTIONAL_CLIENT_SETTINGS = [
  'disabled',
  'tokenEndpointAuthMethod',
  'clientUri',
  'logoUri',
  'jwks',
  'jwksUri',
  'tokenEndpointAuthSigningAlg',
  'secretCiphertext',
  'dpopBoundAccessTokens',
  'requirePushedAuthorizationRequests',
  'requireSignedRequestObject',
  'requestObjectSigningAlg',
  'registrationTokenHash',
  'registrant',
  'tokenExchange',
  'backchannelLogoutUri',
  'backchannelLogoutSessionRequired',
] as const satisfies readonly (keyof ClientRecord)[];
type OptionalClientSetting = (typeof OPTIONAL_CLIENT_SETTINGS)[number];

export type NewClient = Omit<ClientRecord, 'createdAt' | 'updatedAt' | OptionalClientSetting> &
  Partial<Pick<ClientRecord, OptionalClientSetting>>;

/** A whole registration replaced (`clients update`); `secretHash` only when the secret changes. */
export type ClientUpdate = Omit<
  NewClient,
  'id' | 'disabled' | 'secretHash' | 'secretCiphertext' | 'registrationTokenHash' | 'registrant'
> & {
  secretHash?: string | null;
  secretCiphertext?: string | null;
};

export interface ClientRepository {
  create(client: NewClient): Promise<ClientRecord>;
  findById(id: string): Promise<ClientRecord | null>;
  list(): Promise<ClientRecord[]>;
  /**
   * The longest access- or ID-token lifetime a client sets instead of the defaults; null when
   * none does. One aggregate, whatever the number of clients.
   */
  longestTokenTtl(): Promise<number | null>;
  /** Whether an enabled client has a redirect URI with this origin (an index look-up). */
  hasRedirectOrigin(origin: string): Promise<boolean>;
  /** A new secret: its hash, and its ciphertext for a client that signs with it (else null). */
  setSecretHash(
    id: string,
    secretHash: string,
    at: Date,
    secretCiphertext?: string | null,
  ): Promise<void>;
  /** Deletes the client and everything issued to it (families, codes, consents); false: none. */
  delete(id: string): Promise<boolean>;
  /** Replaces the registration; null when there is no such client. */
  update(id: string, update: ClientUpdate, at: Date): Promise<ClientRecord | null>;
  setDisabled(id: string, disabled: boolean): Promise<void>;
}

/**
 * The origins of the http(s) redirect URIs (`https://app.example:8443`), the origins a browser
 * client calls from; custom schemes (native apps) have none.
 */
export function redirectOrigins(redirectUris: readonly string[]): string[] {
  const origins = new Set<string>();
  for (const uri of redirectUris) {
    try {
      const u = new URL(uri);
      if (u.protocol === 'https:' || u.protocol === 'http:') origins.add(u.origin);
    } catch {
      // Not a URL: no origin (registration refuses these anyway).
    }
  }
  return [...origins].sort();
}
