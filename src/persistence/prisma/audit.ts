import type { PrismaClient } from '../../generated/prisma/client';
import type { AuditEventInput, AuditEventRecord, AuditLog } from '../types';
import { isUuid } from './users';

export class PrismaAuditLog implements AuditLog {
  constructor(private readonly prisma: PrismaClient) {}

  async record(event: AuditEventInput): Promise<void> {
    await this.prisma.auditEvent.create({
      data: {
        type: event.type,
        userId: event.userId && isUuid(event.userId) ? event.userId : null,
        clientId: event.clientId ?? null,
        ip: event.ip ?? null,
        requestId: event.requestId ?? null,
        details: (event.details ?? {}) as object,
      },
    });
  }

  async list(filter: { userId?: string; type?: string; since?: Date; limit?: number }): Promise<AuditEventRecord[]> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        ...(filter.userId ? { userId: filter.userId } : {}),
        ...(filter.type ? { type: filter.type } : {}),
        ...(filter.since ? { at: { gte: filter.since } } : {}),
      },
      orderBy: { id: 'desc' },
      take: filter.limit ?? 100,
    });
    return rows.map((r) => ({
      id: r.id.toString(),
      at: r.at,
      type: r.type,
      userId: r.userId,
      clientId: r.clientId,
      ip: r.ip,
      requestId: r.requestId,
      details: r.details as Record<string, unknown>,
    }));
  }
}
