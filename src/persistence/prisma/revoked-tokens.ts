/** The deny-list of access tokens revoked before their expiry (revoked_access_tokens). */
import type { PrismaClient } from '../../generated/prisma/client';
import type { RevokedAccessTokenRepository } from '../types';

/** A jti longer than this was never issued by Tessera; do not let it reach the index. */
const MAX_JTI_LENGTH = 200;

export class PrismaRevokedAccessTokenRepository implements RevokedAccessTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async isRevoked(jti: string): Promise<boolean> {
    if (jti.length === 0 || jti.length > MAX_JTI_LENGTH) return false;
    const row = await this.prisma.revokedAccessToken.findUnique({ where: { jti }, select: { jti: true } });
    return row !== null;
  }

  async revoke(jti: string, expiresAt: Date, reason: string): Promise<boolean> {
    if (jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw new RangeError('jti length out of range');
    // INSERT … ON CONFLICT DO NOTHING: concurrent revocations of one token cannot fail.
    const { count } = await this.prisma.revokedAccessToken.createMany({ data: [{ jti, expiresAt, reason }], skipDuplicates: true });
    return count === 1;
  }

  async purgeExpired(before: Date): Promise<number> {
    const { count } = await this.prisma.revokedAccessToken.deleteMany({ where: { expiresAt: { lt: before } } });
    return count;
  }
}
