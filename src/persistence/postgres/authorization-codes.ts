import { randomUUID } from 'node:crypto';
import type { AuthorizationCode, PrismaClient } from '../../generated/prisma/client';
import type {
  AuthorizationCodeRecord,
  AuthorizationCodeRepository,
  NewAuthorizationCode,
} from '../../oauth/authorization/code-storage';
import type { IssuedAccessToken } from '../../tokens/access-token-storage';

/** Marker in family_id: the code was replayed before a family was attached (never a real family id). */
const REPLAYED = '00000000-0000-0000-0000-000000000000';

function toRecord(c: AuthorizationCode): AuthorizationCodeRecord {
  return {
    id: c.id,
    clientId: c.clientId,
    userId: c.userId,
    sessionId: c.sessionId,
    redirectUri: c.redirectUri,
    scope: c.scope,
    nonce: c.nonce,
    codeChallenge: c.codeChallenge,
    codeChallengeMethod: c.codeChallengeMethod,
    authTime: c.authTime,
    amr: c.amr,
    createdAt: c.createdAt,
    expiresAt: c.expiresAt,
    consumedAt: c.consumedAt,
    familyId: c.familyId === REPLAYED ? null : c.familyId,
    resources: c.resources,
    dpopJkt: c.dpopJkt,
  };
}

export class PrismaAuthorizationCodeRepository implements AuthorizationCodeRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(code: NewAuthorizationCode): Promise<AuthorizationCodeRecord> {
    return toRecord(
      await this.prisma.authorizationCode.create({ data: { id: randomUUID(), ...code } }),
    );
  }

  async findByHash(codeHash: string): Promise<AuthorizationCodeRecord | null> {
    const row = await this.prisma.authorizationCode.findUnique({ where: { codeHash } });
    return row && toRecord(row);
  }

  async consume(id: string, at: Date, accessToken: IssuedAccessToken): Promise<boolean> {
    // One guarded UPDATE: of two concurrent redemptions exactly one sees count === 1, and any
    // replay that finds the code consumed also finds the access token to revoke.
    const { count } = await this.prisma.authorizationCode.updateMany({
      where: { id, consumedAt: null },
      data: {
        consumedAt: at,
        accessTokenJti: accessToken.jti,
        accessTokenExpiresAt: accessToken.expiresAt,
      },
    });
    return count === 1;
  }

  async attachFamily(id: string, familyId: string): Promise<boolean> {
    const { count } = await this.prisma.authorizationCode.updateMany({
      where: { id, familyId: null },
      data: { familyId },
    });
    return count === 1;
  }

  async markReplayed(
    id: string,
  ): Promise<{ familyId: string | null; accessToken: IssuedAccessToken | null }> {
    // Poison an empty family_id so that an issuance still in flight revokes what it creates;
    // RETURNING gives the family attached before (or the marker) and the recorded access token.
    const rows = await this.prisma.$queryRaw<
      {
        family_id: string | null;
        access_token_jti: string | null;
        access_token_expires_at: Date | null;
      }[]
    >`
      UPDATE authorization_codes SET family_id = COALESCE(family_id, ${REPLAYED}::uuid)
       WHERE id = ${id}::uuid
      RETURNING family_id::text, access_token_jti, access_token_expires_at`;
    const row = rows[0];
    if (!row) return { familyId: null, accessToken: null };
    return {
      familyId: row.family_id && row.family_id !== REPLAYED ? row.family_id : null,
      accessToken:
        row.access_token_jti && row.access_token_expires_at
          ? { jti: row.access_token_jti, expiresAt: row.access_token_expires_at }
          : null,
    };
  }

  async purgeExpired(before: Date): Promise<number> {
    const { count } = await this.prisma.authorizationCode.deleteMany({
      where: { expiresAt: { lt: before } },
    });
    return count;
  }
}
