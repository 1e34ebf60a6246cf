import { randomUUID } from 'node:crypto';
import type { BrowserSession, PrismaClient } from '../../generated/prisma/client';
import type {
  BrowserSessionRecord,
  BrowserSessionRepository,
} from '../../sessions/browser-session-storage';
import { isUuid } from './users';

function toRecord(s: BrowserSession): BrowserSessionRecord {
  return {
    id: s.id,
    userId: s.userId,
    authTime: s.authTime,
    amr: s.amr,
    createdAt: s.createdAt,
    lastSeenAt: s.lastSeenAt,
    expiresAt: s.expiresAt,
    endedAt: s.endedAt,
  };
}

export class PrismaBrowserSessionRepository implements BrowserSessionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(s: {
    secretHash: string;
    userId: string;
    authTime: Date;
    amr: string[];
    expiresAt: Date;
    now: Date;
  }): Promise<BrowserSessionRecord> {
    const row = await this.prisma.browserSession.create({
      data: {
        id: randomUUID(),
        secretHash: s.secretHash,
        userId: s.userId,
        authTime: s.authTime,
        amr: s.amr,
        expiresAt: s.expiresAt,
        createdAt: s.now,
        lastSeenAt: s.now,
      },
    });
    return toRecord(row);
  }

  async findActive(secretHash: string, now: Date): Promise<BrowserSessionRecord | null> {
    const row = await this.prisma.browserSession.findFirst({
      where: { secretHash, endedAt: null, expiresAt: { gt: now } },
    });
    return row && toRecord(row);
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.prisma.browserSession.updateMany({
      where: { id, endedAt: null },
      data: { lastSeenAt: at },
    });
  }

  async end(id: string, at: Date): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.browserSession.updateMany({
      where: { id, endedAt: null },
      data: { endedAt: at },
    });
    return count === 1;
  }

  async endAllForUser(userId: string, at: Date): Promise<number> {
    if (!isUuid(userId)) return 0;
    const { count } = await this.prisma.browserSession.updateMany({
      where: { userId, endedAt: null },
      data: { endedAt: at },
    });
    return count;
  }

  async purgeExpired(before: Date): Promise<number> {
    const { count } = await this.prisma.browserSession.deleteMany({
      where: { OR: [{ expiresAt: { lt: before } }, { endedAt: { lt: before } }] },
    });
    return count;
  }

  async liveFamilyIds(sessionId: string): Promise<string[]> {
    if (!isUuid(sessionId)) return [];
    const rows = await this.prisma.refreshTokenFamily.findMany({
      where: { sessionId, revokedAt: null },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }
}
