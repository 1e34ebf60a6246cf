/**
 * Refresh-token families and tokens in PostgreSQL. Rotation is one guarded UPDATE inside a
 * transaction that also inserts the successor — no read-then-write race (RFC 9700 §4.14.2,
 * OAuth 2.1 §6.1). Lock order is always family row, then token rows, in rotation and in
 * revocation alike, so the two serialise instead of deadlocking, and a revocation can never
 * miss a successor inserted concurrently.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient, RefreshToken, RefreshTokenFamily } from '../../generated/prisma/client';
import type {
  NewRefreshFamily,
  NewRefreshToken,
  RefreshFamilyRecord,
  RefreshTokenRecord,
  RefreshTokenRepository,
  RefreshTokenWithFamily,
} from '../types';

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

const TX_OPTIONS = { maxWait: 10_000, timeout: 10_000 };

function toToken(t: RefreshToken): RefreshTokenRecord {
  return {
    id: t.id,
    familyId: t.familyId,
    tokenHash: t.tokenHash,
    parentId: t.parentId,
    scope: t.scope,
    accessTokenJti: t.accessTokenJti,
    accessTokenExpiresAt: t.accessTokenExpiresAt,
    createdAt: t.createdAt,
    idleExpiresAt: t.idleExpiresAt,
    rotatedAt: t.rotatedAt,
    revokedAt: t.revokedAt,
  };
}

function toFamily(f: RefreshTokenFamily): RefreshFamilyRecord {
  return {
    id: f.id,
    clientId: f.clientId,
    userId: f.userId,
    sessionId: f.sessionId,
    scope: f.scope,
    authTime: f.authTime,
    amr: f.amr,
    createdAt: f.createdAt,
    expiresAt: f.expiresAt,
    revokedAt: f.revokedAt,
    revokedReason: f.revokedReason,
  };
}

export class PrismaRefreshTokenRepository implements RefreshTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async createFamily(family: NewRefreshFamily, first: NewRefreshToken): Promise<RefreshTokenWithFamily> {
    const familyId = randomUUID();
    const [f, t] = await this.prisma.$transaction([
      this.prisma.refreshTokenFamily.create({
        data: {
          id: familyId,
          clientId: family.clientId,
          userId: family.userId,
          sessionId: family.sessionId ?? null,
          scope: family.scope,
          authTime: family.authTime,
          amr: family.amr,
          expiresAt: family.expiresAt,
        },
      }),
      this.prisma.refreshToken.create({ data: { id: randomUUID(), familyId, parentId: null, ...first } }),
    ]);
    return { family: toFamily(f), token: toToken(t) };
  }

  async findByHash(tokenHash: string): Promise<RefreshTokenWithFamily | null> {
    if (tokenHash.length > 100) return null;
    const row = await this.prisma.refreshToken.findUnique({ where: { tokenHash }, include: { family: true } });
    return row ? { token: toToken(row), family: toFamily(row.family) } : null;
  }

  async rotate(presentedHash: string, at: Date, successor: NewRefreshToken): Promise<RefreshTokenRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      // Lock the family first (same order as revokeFamily) and require it alive.
      const rows = await tx.$queryRaw<{ token_id: string; family_id: string }[]>`
        SELECT t.id AS token_id, f.id AS family_id
          FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id
         WHERE t.token_hash = ${presentedHash} AND f.revoked_at IS NULL AND f.expires_at > ${at}
           FOR NO KEY UPDATE OF f`;
      const found = rows[0];
      if (!found) return null;
      // The single-use guard: exactly one request can move rotated_at from NULL.
      const claimed = await tx.refreshToken.updateMany({
        where: { id: found.token_id, rotatedAt: null, revokedAt: null, idleExpiresAt: { gt: at } },
        data: { rotatedAt: at },
      });
      if (claimed.count !== 1) return null;
      const next = await tx.refreshToken.create({
        data: { id: randomUUID(), familyId: found.family_id, parentId: found.token_id, createdAt: at, ...successor },
      });
      return toToken(next);
    }, TX_OPTIONS);
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
