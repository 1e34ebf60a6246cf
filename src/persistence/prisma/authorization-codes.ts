import { randomUUID } from 'node:crypto';
import type { AuthorizationCode, PrismaClient } from '../../generated/prisma/client';
import type { AuthorizationCodeRecord, AuthorizationCodeRepository, NewAuthorizationCode } from '../types';

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
  };
}

export class PrismaAuthorizationCodeRepository implements AuthorizationCodeRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(code: NewAuthorizationCode): Promise<AuthorizationCodeRecord> {
    return toRecord(await this.prisma.authorizationCode.create({ data: { id: randomUUID(), ...code } }));
  }

  async findByHash(codeHash: string): Promise<AuthorizationCodeRecord | null> {
    const row = await this.prisma.authorizationCode.findUnique({ where: { codeHash } });
    return row && toRecord(row);
  }

  async consume(id: string, at: Date): Promise<boolean> {
    // One guarded UPDATE: of two concurrent redemptions exactly one sees count === 1.
    const { count } = await this.prisma.authorizationCode.updateMany({ where: { id, consumedAt: null }, data: { consumedAt: at } });
    return count === 1;
  }

  async attachFamily(id: string, familyId: string): Promise<boolean> {
    const { count } = await this.prisma.authorizationCode.updateMany({ where: { id, familyId: null }, data: { familyId } });
    return count === 1;
  }

  async markReplayed(id: string): Promise<string | null> {
    // Poison an empty family_id so that an issuance still in flight revokes what it creates.
    const { count } = await this.prisma.authorizationCode.updateMany({ where: { id, familyId: null }, data: { familyId: REPLAYED } });
    if (count === 1) return null;
    const row = await this.prisma.authorizationCode.findUnique({ where: { id }, select: { familyId: true } });
    return row?.familyId && row.familyId !== REPLAYED ? row.familyId : null;
  }

  async purgeExpired(before: Date): Promise<number> {
    const { count } = await this.prisma.authorizationCode.deleteMany({ where: { expiresAt: { lt: before } } });
    return count;
  }
}
