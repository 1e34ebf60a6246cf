/** The deny-list of access tokens revoked before their expiry (revoked_access_tokens). */
import type { PrismaClient } from '../../generated/prisma/client';
import type { SqlExecutor } from '../../db/database';
import type { RevokedAccessTokenRepository, UserRecord } from '../types';
import { isUuid, toRecord, USER_COLUMNS } from './users';

/** A jti longer than this was never issued by Tessera; do not let it reach the index. */
const MAX_JTI_LENGTH = 200;

export class PrismaRevokedAccessTokenRepository implements RevokedAccessTokenRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  async isRevoked(jti: string): Promise<boolean> {
    if (jti.length === 0 || jti.length > MAX_JTI_LENGTH) return false;
    // Every introspection and userinfo call asks this: the prepared-statement path.
    const rows = await this.sql.query('revoked_access_token_by_jti', 'SELECT 1 AS hit FROM revoked_access_tokens WHERE jti = $1', [jti]);
    return rows.length > 0;
  }

  async isRevokedWithUser(jti: string, userId: string): Promise<{ revoked: boolean; user: UserRecord | null }> {
    if (!isUuid(userId)) return { revoked: await this.isRevoked(jti), user: null };
    if (jti.length === 0 || jti.length > MAX_JTI_LENGTH) jti = ''; // never issued, never revoked
    // One row always: the deny-list answer, with the user's columns (all null when no such user).
    const rows = await this.sql.query<UserRecord & { revoked: boolean }>(
      'revoked_access_token_with_user',
      `SELECT r.revoked, ${USER_COLUMNS}
         FROM (SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1) AS revoked) r
         LEFT JOIN users ON users.id = $2::uuid`,
      [jti, userId],
    );
    const row = rows[0]!;
    return { revoked: row.revoked, user: row.id ? toRecord(row) : null };
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
