/**
 * Refresh-token families and tokens in PostgreSQL. Rotation is one statement whose guarded
 * UPDATE claims the presented token and whose INSERT adds the successor — atomic, no
 * read-then-write race (RFC 9700 §4.14.2, OAuth 2.1 §6.1). Lock order is always family row, then token rows, in rotation and in
 * revocation alike, so the two serialise instead of deadlocking, and a revocation can never
 * miss a successor inserted concurrently.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client';
import { Batcher } from '../../db/batch';
import type { SqlExecutor } from '../../db/database';
import { namedSql } from '../../db/named-sql';
import type {
  NewRefreshFamily,
  NewRefreshToken,
  RefreshRotation,
  RefreshTokenLookup,
  RefreshTokenRepository,
  RefreshTokenWithFamily,
  RefreshReplay,
  RetryAccessToken,
  RotationSuccessor,
} from '../../tokens/refresh-token-storage';
import { FAMILY_INSERT, familyParams } from './family-insert';
import { replayRotation } from './refresh-replay';
import { profileColumns, profileFromPrefixedRow } from './users';
import { ISSUER_EXP_LEEWAY_SECONDS } from '../../tokens/access-token-expiry';

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
}

type LookupRow = TokenFamilyRow & Record<string, unknown>;

/** A token, its family and the family's user (`u_`-prefixed columns, null when gone). */
const LOOKUP_SELECT = `SELECT t.id, t.family_id, t.token_hash, t.parent_id, t.scope, t.access_token_jti, t.access_token_expires_at,
              t.created_at, t.idle_expires_at, t.rotated_at, t.revoked_at,
              f.client_id, f.user_id, f.session_id, f.scope AS f_scope, f.auth_time, f.amr,
              f.created_at AS f_created_at, f.expires_at, f.revoked_at AS f_revoked_at, f.revoked_reason,
              ${profileColumns('u', 'u_')}
         FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id
         LEFT JOIN users u ON u.id = f.user_id`;

function toLookup(r: LookupRow): RefreshTokenLookup {
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
    },
  };
}

/** One rotation waiting for its batch (rotateRefreshToken()). */
interface RotationKey {
  presentedHash: string;
  clientId: string;
  at: Date;
  successor: RotationSuccessor;
}

type RotationRow = { i: number; parent_id: string; idle_expires_at: Date; family_id: string; user_id: string; session_id: string | null; scope: string; auth_time: Date; amr: string[] } & Record<string, unknown>;

/**
 * The rotations asked for in one turn of the event loop, as one statement over a JSON array of
 * them (`req`; `i` is a rotation's 1-based position), atomic as a whole and for each row:
 * - `fam` locks each family by primary key, one lateral look-up per row (joined to the
 *   looked-up tokens instead, the planner scanned every family:
 *   test/db/refresh-rotation-plan.test.ts), in family id order (so two batches, or a batch and
 *   revokeAllForUser, never lock two families in opposite orders), requiring it alive at the
 *   row's time, the row's client's, and its user present and enabled. A concurrent
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
const ROTATE_SQL = `WITH req AS (
         SELECT * FROM json_to_recordset($1::json)
           AS r(i int, token_hash text, client_id text, at timestamptz, successor_id uuid, successor_hash text, access_token_jti text, access_token_expires_at timestamptz, idle_cap timestamptz, retry_seal text)),
       fam AS (
         SELECT f.id, f.user_id, f.session_id, f.scope, f.auth_time, f.amr, f.expires_at, tok.i, tok.token_hash, tok.at
           FROM (SELECT req.i, req.token_hash, req.at, req.client_id,
                        (SELECT t.family_id FROM refresh_tokens t WHERE t.token_hash = req.token_hash) AS family_id
                   FROM req ORDER BY family_id) tok
          CROSS JOIN LATERAL (
                 SELECT f.* FROM refresh_token_families f
                  WHERE f.id = tok.family_id AND f.revoked_at IS NULL AND f.expires_at > tok.at AND f.client_id = tok.client_id
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
              ${profileColumns('u', 'u_')}
         FROM successor JOIN req ON req.successor_id = successor.id JOIN fam ON fam.i = req.i JOIN users u ON u.id = fam.user_id`;

/** PostgreSQL's deadlock_detected: a batch that lost one is run again (see rotateBatch). */
const DEADLOCK_DETECTED = '40P01';

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

const TX_OPTIONS = { maxWait: 10_000, timeout: 10_000 };

/** createFamily's statement: the shared family-opening fragment on its own. */
const CREATE_FAMILY = namedSql(`WITH ${FAMILY_INSERT} SELECT created_at FROM first_token`);

export class PrismaRefreshTokenRepository implements RefreshTokenRepository {
  /** The rotations of one turn of the event loop, one statement per batch (ROTATE_SQL). */
  private readonly rotations: Batcher<RotationKey, RefreshRotation | null>;

  /**
   * `sql` carries the hot path (create, find, rotate: one prepared statement each); the rare
   * revocations stay on Prisma transactions.
   */
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {
    this.rotations = new Batcher((keys) => this.rotateBatch(keys));
  }

  /** Family and first token in one statement (a data-modifying CTE is atomic on its own). */
  async createFamily(family: NewRefreshFamily, first: NewRefreshToken): Promise<RefreshTokenWithFamily> {
    const familyId = randomUUID();
    const tokenId = randomUUID();
    const rows = await this.sql.query<{ created_at: Date }>('refresh_create_family', CREATE_FAMILY.text, CREATE_FAMILY.values(familyParams(familyId, tokenId, family, first)));
    const createdAt = rows[0]!.created_at;
    return {
      family: { id: familyId, clientId: family.clientId, userId: family.userId, sessionId: family.sessionId ?? null, scope: family.scope, authTime: family.authTime, amr: family.amr, createdAt, expiresAt: family.expiresAt, revokedAt: null, revokedReason: null },
      token: { id: tokenId, familyId, parentId: null, ...first, createdAt, rotatedAt: null, revokedAt: null },
    };
  }

  /** With the family's user in the same round trip: every caller goes on to check the user. */
  async findByHash(tokenHash: string): Promise<RefreshTokenLookup | null> {
    if (tokenHash.length > 100) return null;
    const rows = await this.sql.query<LookupRow>('refresh_find_by_hash', `${LOOKUP_SELECT} WHERE t.token_hash = $1`, [tokenHash]);
    return rows[0] ? toLookup(rows[0]) : null;
  }

  /**
   * Rotates the presented token if the grant's checks hold when its family is locked: the
   * family is `clientId`'s and alive, its user exists and is enabled, the token is neither
   * rotated, revoked nor idle-expired (ROTATE_SQL). Rotations asked for at about the same time
   * share one statement (one round trip, one commit), each atomic on its own. Returns only what
   * issuing the new tokens needs (no token row, no password hash); null when nothing changed.
   */
  async rotateRefreshToken(presentedHash: string, clientId: string, at: Date, successor: RotationSuccessor): Promise<RefreshRotation | null> {
    if (presentedHash.length > 100) return null;
    return this.rotations.load({ presentedHash, clientId, at, successor });
  }

  async replayRotation(presentedHash: string, clientId: string, at: Date, windowStart: Date, accessToken: RetryAccessToken): Promise<RefreshReplay | null> {
    if (presentedHash.length > 100) return null;
    return replayRotation(this.sql, { presentedHash, clientId, at, windowStart, accessToken });
  }

  private async rotateBatch(keys: RotationKey[]): Promise<Array<RefreshRotation | null>> {
    // The same token twice in one batch: only its first use may rotate it; the rest lost the
    // race (as they would have, one statement later).
    const seen = new Set<string>();
    const batch = keys.filter((k) => !seen.has(k.presentedHash) && seen.add(k.presentedHash));
    // The rotations as one JSON array (one parameter; json_to_recordset types its fields).
    const requests = JSON.stringify(
      batch.map((k, i) => ({
        i: i + 1,
        token_hash: k.presentedHash,
        client_id: k.clientId,
        at: k.at,
        successor_id: k.successor.id,
        successor_hash: k.successor.tokenHash,
        access_token_jti: k.successor.accessTokenJti,
        access_token_expires_at: k.successor.accessTokenExpiresAt,
        idle_cap: k.successor.idleExpiresAt,
        retry_seal: k.successor.retrySeal.toString('base64'),
      })),
    );
    let rows: RotationRow[];
    for (let attempt = 1; ; attempt++) {
      try {
        rows = await this.sql.query<RotationRow>('refresh_rotate_batch', ROTATE_SQL, [requests], { planEachRun: true });
        break;
      } catch (err) {
        // Families are locked in id order, so only a writer that does not (the purge's
        // DELETE) can deadlock with a batch; the loser's statement was rolled back whole, so
        // running it again is safe.
        if (attempt >= 3 || (err as { code?: unknown }).code !== DEADLOCK_DETECTED) throw err;
      }
    }
    const rotated = new Map<RotationKey, RefreshRotation>();
    for (const r of rows) {
      const key = batch[r.i - 1]!;
      const user = profileFromPrefixedRow(r, 'u_');
      if (!user) continue; // joined on an existing user: cannot happen
      rotated.set(key, {
        rotated: {
          id: key.successor.id,
          familyId: r.family_id,
          parentId: r.parent_id,
          tokenHash: key.successor.tokenHash,
          scope: r.scope,
          accessTokenJti: key.successor.accessTokenJti,
          accessTokenExpiresAt: key.successor.accessTokenExpiresAt,
          createdAt: key.at,
          idleExpiresAt: r.idle_expires_at,
          rotatedAt: null,
          revokedAt: null,
        },
        family: { id: r.family_id, userId: r.user_id, sessionId: r.session_id, scope: r.scope, authTime: r.auth_time, amr: r.amr },
        user,
      });
    }
    return keys.map((k) => rotated.get(k) ?? null);
  }

  async revokeFamily(familyId: string, reason: string, at: Date): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`
        UPDATE refresh_token_families SET revoked_at = ${at}, revoked_reason = ${reason}
         WHERE id = ${familyId}::uuid AND revoked_at IS NULL RETURNING id`;
      if (rows.length === 0) return false;
      await revokeTokensOf(tx, [familyId], reason, at);
      return true;
    }, TX_OPTIONS);
  }

  async revokeAllForUser(userId: string, reason: string, at: Date): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      // Locked in id order first, as rotation batches lock families: no deadlock between them.
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM refresh_token_families WHERE user_id = ${userId}::uuid AND revoked_at IS NULL ORDER BY id FOR NO KEY UPDATE`;
      if (locked.length === 0) return 0;
      const rows = await tx.$queryRaw<{ id: string }[]>`
        UPDATE refresh_token_families SET revoked_at = ${at}, revoked_reason = ${reason}
         WHERE id = ANY(${locked.map((r) => r.id)}::uuid[]) AND revoked_at IS NULL RETURNING id`;
      if (rows.length > 0) await revokeTokensOf(tx, rows.map((r) => r.id), reason, at);
      return rows.length;
    }, TX_OPTIONS);
  }
}

/**
 * Revokes the refresh tokens of the families and denies their still-accepted access tokens by
 * jti, each until accessTokenDeniedUntil(exp) — the same rule, in SQL, as every other writer
 * of the deny-list and the verifier's (tokens/access-token-expiry.ts).
 * Those a retried rotation minted are included. The retry seals go first: a retry in flight
 * holds its seal (refresh-replay.ts), so this waits for it and then sees the access token it
 * minted.
 */
async function revokeTokensOf(tx: Tx, familyIds: string[], reason: string, at: Date): Promise<void> {
  await tx.$executeRaw`
    DELETE FROM refresh_retry_seals s USING refresh_tokens t
     WHERE s.token_id = t.id AND t.family_id = ANY(${familyIds}::uuid[])`;
  await tx.$executeRaw`
    UPDATE refresh_tokens SET revoked_at = ${at}
     WHERE family_id = ANY(${familyIds}::uuid[]) AND revoked_at IS NULL`;
  await tx.$executeRaw`
    INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at, reason)
    SELECT jti, denied_until, ${at}, ${reason}
      FROM (SELECT access_token_jti AS jti, access_token_expires_at + make_interval(secs => ${ISSUER_EXP_LEEWAY_SECONDS}::int) AS denied_until
              FROM refresh_tokens
             WHERE family_id = ANY(${familyIds}::uuid[]) AND access_token_jti IS NOT NULL
            UNION ALL
            SELECT jti, expires_at + make_interval(secs => ${ISSUER_EXP_LEEWAY_SECONDS}::int)
              FROM refresh_retry_access_tokens
             WHERE family_id = ANY(${familyIds}::uuid[])) AS t
     WHERE denied_until > ${at}
    ON CONFLICT (jti) DO NOTHING`;
}
