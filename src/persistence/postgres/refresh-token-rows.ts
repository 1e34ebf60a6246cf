/** How a refresh token is read back: the token, its family and the family's user in one row. */
import type { RefreshTokenLookup } from '../../tokens/refresh-token-storage';
import { profileColumns, profileFromPrefixedRow } from './users';

interface TokenFamilyRow {
  id: string;
  family_id: string;
  token_hash: string;
  parent_id: string | null;
  scope: string;
  access_token_jti: string | null;
  access_token_expires_at: Date | null;
  created_at: Date;
  idle_expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
  client_id: string;
  user_id: string;
  session_id: string | null;
  f_scope: string;
  auth_time: Date;
  amr: string[];
  f_created_at: Date;
  expires_at: Date;
  f_revoked_at: Date | null;
  revoked_reason: string | null;
  f_resources: string[];
  dpop_jkt: string | null;
}

export type LookupRow = TokenFamilyRow & Record<string, unknown>;

/** A token, its family and the family's user (`u_`-prefixed columns, null when gone). */
export const LOOKUP_SELECT = `SELECT t.id, t.family_id, t.token_hash, t.parent_id, t.scope, t.access_token_jti, t.access_token_expires_at,
              t.created_at, t.idle_expires_at, t.rotated_at, t.revoked_at,
              f.client_id, f.user_id, f.session_id, f.scope AS f_scope, f.auth_time, f.amr,
              f.created_at AS f_created_at, f.expires_at, f.revoked_at AS f_revoked_at, f.revoked_reason,
              f.resources AS f_resources, f.dpop_jkt,
              ${profileColumns('u', 'u_')}
         FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id
         LEFT JOIN users u ON u.id = f.user_id`;

export function toLookup(r: LookupRow): RefreshTokenLookup {
  return {
    user: profileFromPrefixedRow(r, 'u_'),
    token: {
      id: r.id,
      familyId: r.family_id,
      tokenHash: r.token_hash,
      parentId: r.parent_id,
      scope: r.scope,
      accessTokenJti: r.access_token_jti,
      accessTokenExpiresAt: r.access_token_expires_at,
      createdAt: r.created_at,
      idleExpiresAt: r.idle_expires_at,
      rotatedAt: r.rotated_at,
      revokedAt: r.revoked_at,
    },
    family: {
      id: r.family_id,
      clientId: r.client_id,
      userId: r.user_id,
      sessionId: r.session_id,
      scope: r.f_scope,
      authTime: r.auth_time,
      amr: r.amr,
      createdAt: r.f_created_at,
      expiresAt: r.expires_at,
      revokedAt: r.f_revoked_at,
      revokedReason: r.revoked_reason,
      resources: r.f_resources,
      dpopJkt: r.dpop_jkt,
    },
  };
}

/** The family columns a rotation or a retry returns (`f.*` of the locked family). */
export interface RotatedFamilyRow {
  family_id: string;
  user_id: string;
  session_id: string | null;
  scope: string;
  auth_time: Date;
  amr: string[];
  resources: string[];
}

export function rotatedFamily(r: RotatedFamilyRow) {
  return {
    id: r.family_id,
    userId: r.user_id,
    sessionId: r.session_id,
    scope: r.scope,
    authTime: r.auth_time,
    amr: r.amr,
    resources: r.resources,
  };
}
