/** The batched rotation statement of refresh-tokens.ts and the rows it takes and returns. */
import type { RotationSuccessor } from '../../tokens/refresh-token-storage';
import { profileColumns } from './users';
import type { RotatedFamilyRow } from './refresh-token-rows';

/** One rotation waiting for its batch (rotateRefreshToken()). */
export interface RotationKey {
  presentedHash: string;
  clientId: string;
  at: Date;
  successor: RotationSuccessor;
  /** The request's DPoP proof key thumbprint (null: no proof); a bound family needs its own. */
  proofJkt: string | null;
}

export type RotationRow = RotatedFamilyRow & {
  i: number;
  parent_id: string;
  idle_expires_at: Date;
} & Record<string, unknown>;

/**
 * The rotations asked for in one turn of the event loop, as one statement over a JSON array of
 * them (`req`; `i` is a rotation's 1-based position), atomic as a whole and for each row:
 * - `fam` locks each family by primary key, one lateral look-up per row (joined to the
 *   looked-up tokens instead, the planner scanned every family:
 *   test/db/refresh-rotation-plan.test.ts), in family id order (so two batches, or a batch and
 *   revokeAllForUser, never lock two families in opposite orders), requiring it alive at the
 *   row's time, the row's client's, its user present and enabled, and — for a family bound to
 *   a DPoP key (RFC 9449 §5) — the row's proof made with that key. A concurrent
 *   revokeFamily() takes the same row lock first, so either it waits for this rotation and
 *   then revokes the successor too, or this rotation waits for it and then finds the family
 *   revoked (READ COMMITTED re-checks the locked row) and does nothing for that row.
 * - `claimed` is the single-use guard: of concurrent rotations of one token, exactly one moves
 *   rotated_at from NULL; the others re-check the updated row and match nothing. It names its
 *   tokens by their hashes (matched through their family instead, a rotation read every token
 *   of its chain). A batch never holds one token twice: rotateRefreshToken() answers repeats
 *   within a batch as lost races.
 * - `sealed` keeps the successor, sealed under the claimed token (tokens/retry-seal.ts), for
 *   the retry window; `moved_on` deletes the seal of the claimed token's own predecessor, whose
 *   retry window ends at once because the chain has moved on.
 * - `successor` is inserted only for a claimed token, with the family's scope and an idle
 *   expiry capped at the family's absolute one.
 * The result has a row only for the rotations that happened. The statement is planned on every
 * run (planEachRun): a plan cached while the tables were small went on scanning
 * refresh_tokens as it grew, until the next ANALYZE.
 */
export const ROTATE_SQL = `WITH req AS (
         SELECT * FROM json_to_recordset($1::json)
           AS r(i int, token_hash text, client_id text, at timestamptz, successor_id uuid, successor_hash text, access_token_jti text, access_token_expires_at timestamptz, idle_cap timestamptz, retry_seal text, dpop_jkt text)),
       fam AS (
         SELECT f.id, f.user_id, f.session_id, f.scope, f.auth_time, f.amr, f.expires_at, tok.i, tok.token_hash, tok.at,
                f.resources
           FROM (SELECT req.i, req.token_hash, req.at, req.client_id, req.dpop_jkt,
                        (SELECT t.family_id FROM refresh_tokens t WHERE t.token_hash = req.token_hash) AS family_id
                   FROM req ORDER BY family_id) tok
          CROSS JOIN LATERAL (
                 SELECT f.* FROM refresh_token_families f
                  WHERE f.id = tok.family_id AND f.revoked_at IS NULL AND f.expires_at > tok.at AND f.client_id = tok.client_id
                    AND (f.dpop_jkt IS NULL OR f.dpop_jkt = tok.dpop_jkt)
                    AND EXISTS (SELECT 1 FROM users u WHERE u.id = f.user_id AND u.disabled IS FALSE)
                    FOR NO KEY UPDATE) f),
       claimed AS (
         UPDATE refresh_tokens t SET rotated_at = fam.at FROM fam
          WHERE t.token_hash = ANY(ARRAY(SELECT token_hash FROM fam)) AND t.token_hash = fam.token_hash
            AND t.rotated_at IS NULL AND t.revoked_at IS NULL AND t.idle_expires_at > fam.at
         RETURNING t.id, t.family_id, t.token_hash, t.parent_id),
       sealed AS (
         INSERT INTO refresh_retry_seals (token_id, successor_id, sealed, created_at)
         SELECT claimed.id, req.successor_id, decode(req.retry_seal, 'base64'), req.at
           FROM claimed JOIN fam ON fam.token_hash = claimed.token_hash JOIN req ON req.i = fam.i),
       moved_on AS (
         DELETE FROM refresh_retry_seals s USING claimed WHERE s.token_id = claimed.parent_id),
       successor AS (
         INSERT INTO refresh_tokens (id, family_id, parent_id, token_hash, scope, access_token_jti, access_token_expires_at, created_at, idle_expires_at)
         SELECT req.successor_id, claimed.family_id, claimed.id, req.successor_hash, fam.scope, req.access_token_jti, req.access_token_expires_at, req.at, LEAST(req.idle_cap, fam.expires_at)
           FROM claimed JOIN fam ON fam.token_hash = claimed.token_hash JOIN req ON req.i = fam.i
         RETURNING id, parent_id, idle_expires_at)
       SELECT req.i::int AS i, successor.parent_id, successor.idle_expires_at, fam.id AS family_id, fam.user_id, fam.session_id, fam.scope, fam.auth_time, fam.amr,
              fam.resources,
              ${profileColumns('u', 'u_')}
         FROM successor JOIN req ON req.successor_id = successor.id JOIN fam ON fam.i = req.i JOIN users u ON u.id = fam.user_id`;
