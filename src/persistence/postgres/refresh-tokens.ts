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
import { profileFromPrefixedRow } from './users';
import { LOOKUP_SELECT, rotatedFamily, toLookup, type LookupRow } from './refresh-token-rows';
import { ROTATE_SQL, type RotationKey, type RotationRow } from './refresh-rotation-sql';
import { revokeTokensOf } from './refresh-revocation';

/** PostgreSQL's deadlock_detected: a batch that lost one is run again (see rotateBatch). */
const DEADLOCK_DETECTED = '40P01';

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
  async createFamily(
    family: NewRefreshFamily,
    first: NewRefreshToken,
  ): Promise<RefreshTokenWithFamily> {
    const familyId = randomUUID();
    const tokenId = randomUUID();
    const rows = await this.sql.query<{ created_at: Date }>(
      'refresh_create_family',
      CREATE_FAMILY.text,
      CREATE_FAMILY.values(familyParams(familyId, tokenId, family, first)),
    );
    const createdAt = rows[0]!.created_at;
    return {
      family: {
        id: familyId,
        clientId: family.clientId,
        userId: family.userId,
        sessionId: family.sessionId ?? null,
        scope: family.scope,
        authTime: family.authTime,
        amr: family.amr,
        createdAt,
        expiresAt: family.expiresAt,
        revokedAt: null,
        revokedReason: null,
        resources: family.resources ?? [],
        dpopJkt: family.dpopJkt ?? null,
      },
      token: {
        id: tokenId,
        familyId,
        parentId: null,
        ...first,
        createdAt,
        rotatedAt: null,
        revokedAt: null,
      },
    };
  }

  /** With the family's user in the same round trip: every caller goes on to check the user. */
  async findByHash(tokenHash: string): Promise<RefreshTokenLookup | null> {
    if (tokenHash.length > 100) return null;
    const rows = await this.sql.query<LookupRow>(
      'refresh_find_by_hash',
      `${LOOKUP_SELECT} WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ? toLookup(rows[0]) : null;
  }

  /**
   * Rotates the presented token if the grant's checks hold when its family is locked: the
   * family is `clientId`'s and alive, its user exists and is enabled, the token is neither
   * rotated, revoked nor idle-expired, and a family bound to a DPoP key is presented with a
   * proof by that key (ROTATE_SQL). Rotations asked for at about the same time
   * share one statement (one round trip, one commit), each atomic on its own. Returns only what
   * issuing the new tokens needs (no token row, no password hash); null when nothing changed.
   */
  async rotateRefreshToken(
    presentedHash: string,
    clientId: string,
    at: Date,
    successor: RotationSuccessor,
    proofJkt: string | null = null,
  ): Promise<RefreshRotation | null> {
    if (presentedHash.length > 100) return null;
    return this.rotations.load({ presentedHash, clientId, at, successor, proofJkt });
  }

  async replayRotation(
    presentedHash: string,
    clientId: string,
    at: Date,
    windowStart: Date,
    accessToken: RetryAccessToken,
  ): Promise<RefreshReplay | null> {
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
        dpop_jkt: k.proofJkt,
      })),
    );
    let rows: RotationRow[];
    for (let attempt = 1; ; attempt++) {
      try {
        rows = await this.sql.query<RotationRow>('refresh_rotate_batch', ROTATE_SQL, [requests], {
          planEachRun: true,
        });
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
        family: rotatedFamily(r),
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
      if (rows.length > 0)
        await revokeTokensOf(
          tx,
          rows.map((r) => r.id),
          reason,
          at,
        );
      return rows.length;
    }, TX_OPTIONS);
  }
}
