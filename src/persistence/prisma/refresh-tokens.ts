/**
 * Refresh-token families and tokens in PostgreSQL. Rotation is one statement whose guarded
 * UPDATE claims the presented token and whose INSERT adds the successor — atomic, no
 * read-then-write race (RFC 9700 §4.14.2, OAuth 2.1 §6.1). Lock order is always family row, then token rows, in rotation and in
 * revocation alike, so the two serialise instead of deadlocking, and a revocation can never
 * miss a successor inserted concurrently.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client';
import type { SqlExecutor } from '../../db/database';
import type {
  NewRefreshFamily,
  NewRefreshToken,
  RefreshRotation,
  RefreshTokenLookup,
  RefreshTokenRecord,
  RefreshTokenRepository,
  RefreshTokenWithFamily,
} from '../types';
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

/**
 * The rotation statements' two guards (see rotate() for why they make rotation atomic), as
 * CTEs over SQL expressions:
 * - `fam` locks the family whose id `familyId` yields, by primary key (a scalar subquery:
 *   joined to the looked-up token instead, the planner scanned every family,
 *   test/db/refresh-rotation-plan.test.ts), requiring it alive at `at` and `guard` true of it
 *   (`f`), and yields its id and login facts;
 * - `claimed` moves the presented token's rotated_at from NULL, only in that family and only
 *   while the token is neither revoked nor idle-expired.
 */
function lockFamily(familyId: string, at: string, guard = 'TRUE'): string {
  return `fam AS (
         SELECT f.id, f.user_id, f.scope, f.auth_time, f.amr, f.expires_at FROM refresh_token_families f
          WHERE f.id = ${familyId} AND f.revoked_at IS NULL AND f.expires_at > ${at} AND ${guard}
            FOR NO KEY UPDATE)`;
}

function claimToken(tokenHash: string, at: string): string {
  return `claimed AS (
         UPDATE refresh_tokens t SET rotated_at = ${at} FROM fam
          WHERE t.family_id = fam.id AND t.token_hash = ${tokenHash}
            AND t.rotated_at IS NULL AND t.revoked_at IS NULL AND t.idle_expires_at > ${at}
         RETURNING t.id, t.family_id)`;
}

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

const TX_OPTIONS = { maxWait: 10_000, timeout: 10_000 };

export class PrismaRefreshTokenRepository implements RefreshTokenRepository {
  /**
   * `sql` carries the hot path (create, find, rotate: one prepared statement each); the rare
   * revocations stay on Prisma transactions.
   */
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  /** Family and first token in one statement (a data-modifying CTE is atomic on its own). */
  async createFamily(family: NewRefreshFamily, first: NewRefreshToken): Promise<RefreshTokenWithFamily> {
    const familyId = randomUUID();
    const tokenId = randomUUID();
    const rows = await this.sql.query<{ created_at: Date }>(
      'refresh_create_family',
      `WITH f AS (
         INSERT INTO refresh_token_families (id, client_id, user_id, session_id, scope, auth_time, amr, expires_at)
         VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5, $6, $7::text[], $8)
         RETURNING id, created_at)
       INSERT INTO refresh_tokens (id, family_id, parent_id, token_hash, scope, access_token_jti, access_token_expires_at, created_at, idle_expires_at)
       SELECT $9::uuid, f.id, NULL, $10, $11, $12, $13, f.created_at, $14 FROM f
       RETURNING created_at`,
      [
        familyId,
        family.clientId,
        family.userId,
        family.sessionId ?? null,
        family.scope,
        family.authTime,
        family.amr,
        family.expiresAt,
        tokenId,
        first.tokenHash,
        first.scope,
        first.accessTokenJti,
        first.accessTokenExpiresAt,
        first.idleExpiresAt,
      ],
    );
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
   * Rotates the token when the grant's checks pass — one statement, one round trip (the refresh
   * grant without a `scope` parameter, i.e. nearly every refresh). The checks are the fam CTE's
   * guard (the family is `clientId`'s and its user exists and is enabled) and rotate()'s
   * conditions, evaluated with the family row locked, so the same races resolve the same way.
   * Returns only what issuing the new tokens needs (no token row, no password hash); on any
   * refusal no row comes back and the caller looks the token up to name the reason.
   */
  async findAndRotate(presentedHash: string, clientId: string, at: Date, successor: Omit<NewRefreshToken, 'scope'>): Promise<RefreshRotation | null> {
    if (presentedHash.length > 100) return null;
    const id = randomUUID();
    const rows = await this.sql.query<{ parent_id: string; idle_expires_at: Date; family_id: string; user_id: string; scope: string; auth_time: Date; amr: string[] } & Record<string, unknown>>(
      'refresh_find_and_rotate',
      `WITH ${lockFamily('(SELECT family_id FROM refresh_tokens WHERE token_hash = $1)', '$3', 'f.client_id = $2 AND EXISTS (SELECT 1 FROM users u WHERE u.id = f.user_id AND u.disabled IS FALSE)')},
       ${claimToken('$1', '$3')},
       successor AS (
         INSERT INTO refresh_tokens (id, family_id, parent_id, token_hash, scope, access_token_jti, access_token_expires_at, created_at, idle_expires_at)
         SELECT $4::uuid, claimed.family_id, claimed.id, $5, fam.scope, $6, $7, $3, LEAST($8, fam.expires_at)
           FROM claimed, fam
         RETURNING parent_id, idle_expires_at)
       SELECT successor.parent_id, successor.idle_expires_at, fam.id AS family_id, fam.user_id, fam.scope, fam.auth_time, fam.amr,
              ${profileColumns('u', 'u_')}
         FROM successor, fam JOIN users u ON u.id = fam.user_id`,
      [presentedHash, clientId, at, id, successor.tokenHash, successor.accessTokenJti, successor.accessTokenExpiresAt, successor.idleExpiresAt],
    );
    const r = rows[0];
    const user = r ? profileFromPrefixedRow(r, 'u_') : null;
    if (!r || !user) return null;
    return {
      rotated: {
        id,
        familyId: r.family_id,
        parentId: r.parent_id,
        tokenHash: successor.tokenHash,
        scope: r.scope,
        accessTokenJti: successor.accessTokenJti,
        accessTokenExpiresAt: successor.accessTokenExpiresAt,
        createdAt: at,
        idleExpiresAt: r.idle_expires_at,
        rotatedAt: null,
        revokedAt: null,
      },
      family: { id: r.family_id, userId: r.user_id, scope: r.scope, authTime: r.auth_time, amr: r.amr },
      user,
    };
  }

  /**
   * One statement, so one round trip and atomic by itself:
   * - `fam` locks the family row (FOR NO KEY UPDATE), requiring it alive. A concurrent
   *   revokeFamily() takes the same row lock first, so either it waits for this rotation and
   *   then revokes the successor too, or this rotation waits for it and then finds the family
   *   revoked (READ COMMITTED re-checks the locked row) and does nothing.
   * - `claimed` is the single-use guard: of concurrent rotations of one token, exactly one
   *   moves rotated_at from NULL; the others re-check the updated row and match nothing.
   * - the INSERT adds the successor only for a claimed token.
   */
  async rotate(presentedHash: string, at: Date, successor: NewRefreshToken): Promise<RefreshTokenRecord | null> {
    const id = randomUUID();
    const rows = await this.sql.query<{ family_id: string; parent_id: string }>(
      'refresh_rotate',
      `WITH ${lockFamily('(SELECT family_id FROM refresh_tokens WHERE token_hash = $1)', '$2')},
       ${claimToken('$1', '$2')}
       INSERT INTO refresh_tokens (id, family_id, parent_id, token_hash, scope, access_token_jti, access_token_expires_at, created_at, idle_expires_at)
       SELECT $3::uuid, claimed.family_id, claimed.id, $4, $5, $6, $7, $2, $8 FROM claimed
       RETURNING family_id, parent_id`,
      [presentedHash, at, id, successor.tokenHash, successor.scope, successor.accessTokenJti, successor.accessTokenExpiresAt, successor.idleExpiresAt],
    );
    const row = rows[0];
    if (!row) return null;
    return { id, familyId: row.family_id, parentId: row.parent_id, ...successor, createdAt: at, rotatedAt: null, revokedAt: null };
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
      const rows = await tx.$queryRaw<{ id: string }[]>`
        UPDATE refresh_token_families SET revoked_at = ${at}, revoked_reason = ${reason}
         WHERE user_id = ${userId}::uuid AND revoked_at IS NULL RETURNING id`;
      if (rows.length > 0) await revokeTokensOf(tx, rows.map((r) => r.id), reason, at);
      return rows.length;
    }, TX_OPTIONS);
  }
}

/** Revokes the refresh tokens of the families and denies their unexpired access tokens by jti. */
async function revokeTokensOf(tx: Tx, familyIds: string[], reason: string, at: Date): Promise<void> {
  await tx.$executeRaw`
    UPDATE refresh_tokens SET revoked_at = ${at}
     WHERE family_id = ANY(${familyIds}::uuid[]) AND revoked_at IS NULL`;
  await tx.$executeRaw`
    INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at, reason)
    SELECT access_token_jti, access_token_expires_at, ${at}, ${reason}
      FROM refresh_tokens
     WHERE family_id = ANY(${familyIds}::uuid[])
       AND access_token_jti IS NOT NULL AND access_token_expires_at > ${at}
    ON CONFLICT (jti) DO NOTHING`;
}
