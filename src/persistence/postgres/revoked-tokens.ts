/** The deny-list of access tokens revoked before their expiry (revoked_access_tokens). */
import type { PrismaClient } from '../../generated/prisma/client';
import type { SqlExecutor } from '../../db/database';
import type { RevokedAccessTokenRepository } from '../../tokens/access-token-storage';
import type { UserProfile } from '../../accounts/user-storage';
import { Batcher } from '../../db/batch';
import { isUuid, profileColumns, profileFromPrefixedRow } from './users';

/** A jti longer than this was never issued by Tessera; do not let it reach the index. */
const MAX_JTI_LENGTH = 200;

interface DenyListKey {
  jti: string;
  /** The token's user, or null for a client's own token (and a `sub` that is no user id). */
  userId: string | null;
}

type DenyListRow = { i: number; revoked: boolean } & Record<string, unknown>;

export class PrismaRevokedAccessTokenRepository implements RevokedAccessTokenRepository {
  /**
   * Every introspection and userinfo call asks the deny-list (and for the token's user): the
   * questions asked in the same turn of the event loop go to PostgreSQL as one statement.
   */
  private readonly lookups: Batcher<DenyListKey, { revoked: boolean; user: UserProfile | null }>;

  constructor(
    private readonly prisma: PrismaClient,
    sql: SqlExecutor,
  ) {
    this.lookups = new Batcher(async (keys) => {
      // One row per key (k.i, 1-based, says which): the deny-list answer and the user's
      // columns (all null for no user). unnest keeps one prepared statement for any batch size.
      const rows = await sql.query<DenyListRow>(
        'revoked_access_tokens_with_users',
        `SELECT k.i::int AS i, EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = k.jti) AS revoked, ${profileColumns('u', 'u_')}
           FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS k(jti, user_id, i)
           LEFT JOIN users u ON u.id = k.user_id`,
        [keys.map((k) => k.jti), keys.map((k) => k.userId)],
      );
      const answers = new Array<{ revoked: boolean; user: UserProfile | null }>(keys.length);
      for (const row of rows)
        answers[row.i - 1] = { revoked: row.revoked, user: profileFromPrefixedRow(row, 'u_') };
      return answers;
    });
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (jti.length === 0 || jti.length > MAX_JTI_LENGTH) return false;
    return (await this.lookups.load({ jti, userId: null })).revoked;
  }

  async isRevokedWithUser(
    jti: string,
    userId: string,
  ): Promise<{ revoked: boolean; user: UserProfile | null }> {
    // A jti out of range was never issued, so never revoked; it is still asked with the user.
    const validJti = jti.length > 0 && jti.length <= MAX_JTI_LENGTH;
    return this.lookups.load({ jti: validJti ? jti : '', userId: isUuid(userId) ? userId : null });
  }

  async revoke(jti: string, deniedUntil: Date, reason: string): Promise<boolean> {
    if (jti.length === 0 || jti.length > MAX_JTI_LENGTH)
      throw new RangeError('jti length out of range');
    // INSERT … ON CONFLICT DO NOTHING: concurrent revocations of one token cannot fail.
    const { count } = await this.prisma.revokedAccessToken.createMany({
      data: [{ jti, expiresAt: deniedUntil, reason }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async purgeExpired(before: Date): Promise<number> {
    const { count } = await this.prisma.revokedAccessToken.deleteMany({
      where: { expiresAt: { lt: before } },
    });
    return count;
  }
}
