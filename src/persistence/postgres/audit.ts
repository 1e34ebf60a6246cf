import type { PrismaClient } from '../../generated/prisma/client';
import type { SqlExecutor } from '../../db/database';
import { namedSql } from '../../db/named-sql';
import type { AuditEventInput, AuditEventRecord, AuditLog } from '../../observability/audit-log';
import { isUuid } from './users';

/**
 * The audit insert, its parameters named under `{audit.…}` (db/named-sql.ts): on its own here,
 * and inside a login's success statement (logins.ts).
 */
export const AUDIT_INSERT = `INSERT INTO audit_events (type, user_id, client_id, ip, request_id, details)
  VALUES ({audit.type}, {audit.userId}::uuid, {audit.clientId}, {audit.ip}, {audit.requestId}, {audit.details}::jsonb)`;

/** AUDIT_INSERT's values, under `audit`. */
export function auditParams(event: AuditEventInput): { audit: Record<string, unknown> } {
  return {
    audit: {
      type: event.type,
      userId: event.userId && isUuid(event.userId) ? event.userId : null,
      clientId: event.clientId ?? null,
      ip: event.ip ?? null,
      requestId: event.requestId ?? null,
      details: JSON.stringify(event.details ?? {}),
    },
  };
}

const INSERT = namedSql(AUDIT_INSERT);

export class PrismaAuditLog implements AuditLog {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  /** Writes of this process still in flight; list() waits for them (read-your-writes). */
  private readonly pending = new Set<Promise<unknown>>();

  async record(event: AuditEventInput): Promise<void> {
    // Logins and token events write here on their hot path: a prepared statement, not the ORM.
    const write = this.sql.query('audit_insert', INSERT.text, INSERT.values(auditParams(event)));
    this.pending.add(write);
    try {
      await write;
    } finally {
      this.pending.delete(write);
    }
  }

  async list(filter: {
    userId?: string;
    type?: string;
    since?: Date;
    limit?: number;
  }): Promise<AuditEventRecord[]> {
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
