/**
 * Opening a refresh-token family: the family row and its first token, as two data-modifying
 * CTEs (`family`, then `first_token`, which returns its created_at) written with named
 * parameters under `{family.…}` and `{first.…}` (db/named-sql.ts). One fragment for the two
 * statements that open a family — RefreshTokenRepository.createFamily, and a password login's
 * success (LoginRepository.succeed), which opens the family in the same statement that records
 * the login — so both insert exactly the same way.
 */
import type { NewRefreshFamily, NewRefreshToken } from '../../tokens/refresh-token-storage';

export const FAMILY_INSERT = `family AS (
         INSERT INTO refresh_token_families (id, client_id, user_id, session_id, scope, auth_time, amr, expires_at, resources, dpop_jkt)
         VALUES ({family.id}::uuid, {family.clientId}, {family.userId}::uuid, {family.sessionId}::uuid, {family.scope},
                 {family.authTime}::timestamptz, {family.amr}::text[], {family.expiresAt}::timestamptz,
                 {family.resources}::text[], {family.dpopJkt}::text)
         RETURNING id, created_at),
       first_token AS (
         INSERT INTO refresh_tokens (id, family_id, parent_id, token_hash, scope, access_token_jti, access_token_expires_at, created_at, idle_expires_at)
         SELECT {first.id}::uuid, family.id, NULL, {first.tokenHash}, {first.scope}, {first.accessTokenJti},
                {first.accessTokenExpiresAt}::timestamptz, family.created_at, {first.idleExpiresAt}::timestamptz FROM family
         RETURNING created_at)`;

/** FAMILY_INSERT's values, under `family` and `first`. */
export function familyParams(
  familyId: string,
  tokenId: string,
  family: NewRefreshFamily,
  first: NewRefreshToken,
): { family: Record<string, unknown>; first: Record<string, unknown> } {
  return {
    family: {
      ...family,
      id: familyId,
      sessionId: family.sessionId ?? null,
      resources: family.resources ?? [],
      dpopJkt: family.dpopJkt ?? null,
    },
    first: { ...first, id: tokenId },
  };
}
