/**
 * A retried rotation (the refresh grant's retry window): hands back the successor a rotation
 * already issued, as one statement.
 *
 * The retry seal's existence carries the state that matters: the rotation that moves the chain
 * on (the successor's own rotation) and the revocation of the family both delete it. The
 * statement takes the seal FOR SHARE, so against each of them it is ordered whole: either they
 * deleted the seal first and the retry finds nothing, or they wait until the retry has
 * committed — and a revocation then sees, and denies, the access token the retry recorded
 * (refresh-tokens.ts revokeTokensOf deletes the seals before it writes the deny-list).
 * Concurrent retries share the lock and never wait for each other. Nothing here inserts a
 * refresh token: however many retries run, the chain keeps its one successor.
 */
import type { SqlExecutor } from '../../db/database';
import type { RefreshReplay, RetryAccessToken } from '../../tokens/refresh-token-storage';
import { profileColumns, profileFromPrefixedRow } from './users';
import { rotatedFamily, type RotatedFamilyRow } from './refresh-token-rows';

const REPLAY_SQL = `WITH seal AS (
         SELECT s.successor_id, s.sealed FROM refresh_retry_seals s
          WHERE s.token_id = (SELECT t.id FROM refresh_tokens t WHERE t.token_hash = $1 AND t.revoked_at IS NULL)
            AND s.created_at >= $4
          FOR SHARE),
       retry AS (
         SELECT seal.sealed, n.id AS successor_id, n.token_hash AS successor_hash,
                f.id AS family_id, f.user_id, f.session_id, f.scope, f.auth_time, f.amr,
                f.resources,
                ${profileColumns('u', 'u_')}
           FROM seal
           JOIN refresh_tokens n ON n.id = seal.successor_id
           JOIN refresh_token_families f ON f.id = n.family_id
           JOIN users u ON u.id = f.user_id
          WHERE f.client_id = $2 AND f.revoked_at IS NULL AND f.expires_at > $3
            AND n.rotated_at IS NULL AND n.revoked_at IS NULL AND n.idle_expires_at > $3
            AND u.disabled IS FALSE),
       issued AS (
         INSERT INTO refresh_retry_access_tokens (jti, family_id, expires_at)
         SELECT $5, retry.family_id, $6::timestamptz FROM retry
         RETURNING jti)
       SELECT retry.* FROM retry JOIN issued ON true`;

type ReplayRow = RotatedFamilyRow & {
  sealed: Buffer;
  successor_id: string;
  successor_hash: string;
} & Record<string, unknown>;

export interface ReplayRequest {
  presentedHash: string;
  clientId: string;
  at: Date;
  /** The earliest rotation time still inside the retry window. */
  windowStart: Date;
  accessToken: RetryAccessToken;
}

export async function replayRotation(
  sql: SqlExecutor,
  req: ReplayRequest,
): Promise<RefreshReplay | null> {
  const rows = await sql.query<ReplayRow>('refresh_replay_rotation', REPLAY_SQL, [
    req.presentedHash,
    req.clientId,
    req.at,
    req.windowStart,
    req.accessToken.jti,
    req.accessToken.expiresAt,
  ]);
  const r = rows[0];
  const user = r ? profileFromPrefixedRow(r, 'u_') : null;
  if (!r || !user) return null;
  return {
    successor: { id: r.successor_id, tokenHash: r.successor_hash },
    sealed: Buffer.from(r.sealed),
    family: rotatedFamily(r),
    user,
  };
}
