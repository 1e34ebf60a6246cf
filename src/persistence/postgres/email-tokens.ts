import type { EmailToken, PrismaClient } from '../../generated/prisma/client';
import type {
  Continuation,
  EmailTokenPurpose,
  EmailTokenRecord,
  EmailTokenRepository,
  NewEmailToken,
} from '../../accounts/email-token-storage';
import { normalizeEmail } from './users';

function toRecord(row: EmailToken): EmailTokenRecord {
  return {
    tokenHash: row.tokenHash,
    purpose: row.purpose as EmailTokenPurpose,
    userId: row.userId,
    email: row.email,
    continuation: (row.continuation as Continuation | null) ?? null,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
  };
}

export class PrismaEmailTokenRepository implements EmailTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(token: NewEmailToken): Promise<void> {
    await this.prisma.emailToken.create({
      data: {
        tokenHash: token.tokenHash,
        purpose: token.purpose,
        userId: token.userId,
        email: normalizeEmail(token.email),
        ...(token.continuation ? { continuation: { ...token.continuation } } : {}),
        createdAt: token.createdAt,
        expiresAt: token.expiresAt,
      },
    });
  }

  async consume(
    tokenHash: string,
    purpose: EmailTokenPurpose,
    at: Date,
  ): Promise<EmailTokenRecord | null> {
    const { count } = await this.prisma.emailToken.updateMany({
      where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: at } },
      data: { usedAt: at },
    });
    if (count !== 1) return null;
    const row = await this.prisma.emailToken.findUnique({ where: { tokenHash } });
    return row ? toRecord(row) : null;
  }

  async findUsable(
    tokenHash: string,
    purpose: EmailTokenPurpose,
    at: Date,
  ): Promise<EmailTokenRecord | null> {
    const row = await this.prisma.emailToken.findFirst({
      where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: at } },
    });
    return row ? toRecord(row) : null;
  }

  async consumeAllForUser(userId: string, purpose: EmailTokenPurpose, at: Date): Promise<number> {
    const { count } = await this.prisma.emailToken.updateMany({
      where: { userId, purpose, usedAt: null },
      data: { usedAt: at },
    });
    return count;
  }

  async remove(tokenHash: string): Promise<void> {
    await this.prisma.emailToken.deleteMany({ where: { tokenHash } });
  }
}
