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
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** How a client authenticates at the token endpoint (RFC 7591 §2, RFC 6749 §2.3). */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'none',
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
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type NewClient = Omit<
  ClientRecord,
  'createdAt' | 'updatedAt' | 'disabled' | 'tokenEndpointAuthMethod' | 'clientUri' | 'logoUri'
> &
  Partial<Pick<ClientRecord, 'disabled' | 'tokenEndpointAuthMethod' | 'clientUri' | 'logoUri'>>;

/** A whole registration replaced (`clients update`); `secretHash` only when the secret changes. */
export type ClientUpdate = Omit<NewClient, 'id' | 'disabled' | 'secretHash'> & {
  secretHash?: string | null;
};

export interface ClientRepository {
  create(client: NewClient): Promise<ClientRecord>;
  findById(id: string): Promise<ClientRecord | null>;
  list(): Promise<ClientRecord[]>;
  setSecretHash(id: string, secretHash: string, at: Date): Promise<void>;
  /** Replaces the registration; null when there is no such client. */
  update(id: string, update: ClientUpdate, at: Date): Promise<ClientRecord | null>;
  setDisabled(id: string, disabled: boolean): Promise<void>;
}
