import type { PrismaClient } from '../../generated/prisma/client';
import type { SqlExecutor } from '../../db/database';
import type { AuditEventInput, AuditEventRecord, AuditLog } from '../../observability/audit-log';
import { isUuid } from './users';

/** The audit insert with its parameters numbered from $`o`+1 (the values of auditValues). */
export function auditInsert(o: number): string {
  const p = (n: number) => `$${o + n}`;
  return `INSERT INTO audit_events (type, user_id, client_id, ip, request_id, details) VALUES (${p(1)}, ${p(2)}::uuid, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}::jsonb)`;
}

export function auditValues(event: AuditEventInput): unknown[] {
  return [event.type, event.userId && isUuid(event.userId) ? event.userId : null, event.clientId ?? null, event.ip ?? null, event.requestId ?? null, JSON.stringify(event.details ?? {})];
}

export class PrismaAuditLog implements AuditLog {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  /** Writes of this process still in flight; list() waits for them (read-your-writes). */
  private readonly pending = new Set<Promise<unknown>>();

  async record(event: AuditEventInput): Promise<void> {
    // Logins and token events write here on their hot path: a prepared statement, not the ORM.
    const write = this.sql.query('audit_insert', auditInsert(0), auditValues(event));
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
