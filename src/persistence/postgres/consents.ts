import type { PrismaClient } from '../../generated/prisma/client';
import type { ConsentRepository } from '../../oauth/authorization/consent-storage';
import { isUuid } from './users';

export class PrismaConsentRepository implements ConsentRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async grantedScopes(userId: string, clientId: string): Promise<string[]> {
    if (!isUuid(userId)) return [];
    const row = await this.prisma.consent.findUnique({
      where: { userId_clientId: { userId, clientId } },
    });
    return row?.scopes ?? [];
  }

  async grantedResources(userId: string, clientId: string): Promise<string[]> {
    if (!isUuid(userId)) return [];
    const row = await this.prisma.consent.findUnique({
      where: { userId_clientId: { userId, clientId } },
      select: { resources: true },
    });
    return row?.resources ?? [];
  }

  async grant(
    userId: string,
    clientId: string,
    scopes: string[],
    resources: string[] = [],
  ): Promise<void> {
    // Read-merge-write in one transaction; concurrent approvals of the same pair only ever add.
    await this.prisma.$transaction(async (tx) => {
      const row = await tx.consent.findUnique({ where: { userId_clientId: { userId, clientId } } });
      const merged = [...new Set([...(row?.scopes ?? []), ...scopes])];
      const mergedResources = [...new Set([...(row?.resources ?? []), ...resources])];
      await tx.consent.upsert({
        where: { userId_clientId: { userId, clientId } },
        create: { userId, clientId, scopes: merged, resources: mergedResources },
        update: { scopes: merged, resources: mergedResources },
      });
    });
  }
}
