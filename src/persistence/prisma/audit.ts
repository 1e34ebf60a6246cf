import type { PrismaClient } from '../../generated/prisma/client';
import type { SqlExecutor } from '../../db/database';
import type { AuditEventInput, AuditEventRecord, AuditLog } from '../types';
import { isUuid } from './users';

export class PrismaAuditLog implements AuditLog {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  /** Writes of this process still in flight; list() waits for them (read-your-writes). */
  private readonly pending = new Set<Promise<unknown>>();

  async record(event: AuditEventInput): Promise<void> {
    // Logins and token events write here on their hot path: a prepared statement, not the ORM.
    const write = this.sql.query(
      'audit_insert',
      'INSERT INTO audit_events (type, user_id, client_id, ip, request_id, details) VALUES ($1, $2::uuid, $3, $4, $5, $6::jsonb)',
      [event.type, event.userId && isUuid(event.userId) ? event.userId : null, event.clientId ?? null, event.ip ?? null, event.requestId ?? null, JSON.stringify(event.details ?? {})],
    );
    this.pending.add(write);
    try {
      await write;
    } finally {
      this.pending.delete(write);
    }
  }

  async list(filter: { userId?: string; type?: string; since?: Date; limit?: number }): Promise<AuditEventRecord[]> {
    if (this.pending.size > 0) await Promise.allSettled([...this.pending]);
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
