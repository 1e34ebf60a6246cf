/**
 * Initial access tokens for dynamic client registration (RFC 7591 §3.1): issued by an operator
 * (`tessera registration create-token`), shown once, stored as a SHA-256; each allows a number
 * of registrations until it expires, under a policy of what it may register.
 */
import type { GrantType } from '../../clients/client-storage';

/** What clients registered with a token may be. Absent fields: no restriction beyond the defaults. */
export interface RegistrationPolicy {
  /** Grant types a registration may ask for. */
  grant_types?: GrantType[];
  /** Scopes a registration may ask for. */
  scopes?: string[];
  /** Resources (RFC 8707) a registration may list as its `audiences`; absent: none. */
  audiences?: string[];
  /** Every redirect URI must start with one of these. */
  redirect_uri_prefixes?: string[];
}

export interface NewRegistrationToken {
  id: string;
  tokenHash: string;
  maxUses: number | null;
  expiresAt: Date | null;
  policy: RegistrationPolicy;
}

export interface RegistrationTokenRepository {
  create(token: NewRegistrationToken): Promise<void>;
  /**
   * Counts one use of the token if it has uses left and has not expired (one conditional update:
   * concurrent registrations cannot overdraw it); its policy, or null when it cannot be used.
   */
  use(tokenHash: string, now: Date): Promise<RegistrationPolicy | null>;
}
