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

export interface ClientRecord {
  id: string;
  name: string;
  secretHash: string | null;
  isPublic: boolean;
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
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type NewClient = Omit<ClientRecord, 'createdAt' | 'updatedAt' | 'disabled'> & {
  disabled?: boolean;
};

export interface ClientRepository {
  create(client: NewClient): Promise<ClientRecord>;
  findById(id: string): Promise<ClientRecord | null>;
  list(): Promise<ClientRecord[]>;
  setSecretHash(id: string, secretHash: string, at: Date): Promise<void>;
  setDisabled(id: string, disabled: boolean): Promise<void>;
}
