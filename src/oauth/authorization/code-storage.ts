/**
 * Authorization codes (RFC 6749 §4.1) as stored — only the code's hash — and their repository:
 * the authorization flow creates them, the authorization_code grant consumes them.
 */
import type { IssuedAccessToken } from '../../tokens/access-token-storage';

export interface AuthorizationCodeRecord {
  id: string;
  clientId: string;
  userId: string;
  sessionId: string | null;
  redirectUri: string;
  scope: string;
  nonce: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  authTime: Date;
  amr: string[];
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
  /** The refresh-token family issued from this code (set after issuance). */
  familyId: string | null;
  /** RFC 8707: the resources the authorization request named (empty: none). */
  resources: string[];
  /** RFC 9449 §10: the DPoP key (`dpop_jkt`) the code may only be redeemed with; null: any. */
  dpopJkt: string | null;
}

export type NewAuthorizationCode = Omit<
  AuthorizationCodeRecord,
  'id' | 'consumedAt' | 'familyId' | 'createdAt'
> & { codeHash: string; createdAt: Date };

export interface AuthorizationCodeRepository {
  create(code: NewAuthorizationCode): Promise<AuthorizationCodeRecord>;
  findByHash(codeHash: string): Promise<AuthorizationCodeRecord | null>;
  /**
   * Marks the code used with one conditional update (consumed_at IS NULL), recording in the
   * same update the access token about to be issued from it; true only for the single caller
   * that consumed it (RFC 6749 §4.1.2: a code is used once).
   */
  consume(id: string, at: Date, accessToken: IssuedAccessToken): Promise<boolean>;
  /**
   * Records the family issued from the code. False when a replay of the code got there first
   * (markReplayed); the caller must then revoke the family it just created.
   */
  attachFamily(id: string, familyId: string): Promise<boolean>;
  /**
   * A consumed code was presented again: returns what was issued from it, to revoke — the
   * family (null when none was attached yet, in which case attachFamily will refuse and its
   * caller revokes) and the access token recorded by consume (RFC 6749 §4.1.2).
   */
  markReplayed(
    id: string,
  ): Promise<{ familyId: string | null; accessToken: IssuedAccessToken | null }>;
  /** Deletes codes that expired before `before`. */
  purgeExpired(before: Date): Promise<number>;
}
