import type { PrismaClient } from '../../generated/prisma/client';
import type {
  EnqueueOptions,
  LogoutDeliveryRecord,
  LogoutDeliveryRepository,
} from '../../oauth/logout/delivery-storage';
import { isUuid } from './users';

interface DeliveryRow {
  id: string;
  client_id: string;
  user_id: string;
  session_id: string | null;
  reason: string;
  attempts: number;
  created_at: Date;
  give_up_at: Date;
}

function toRecord(r: DeliveryRow): LogoutDeliveryRecord {
  return {
    id: r.id,
    clientId: r.client_id,
    userId: r.user_id,
    sessionId: r.session_id,
    reason: r.reason,
    attempts: r.attempts,
    createdAt: r.created_at,
    giveUpAt: r.give_up_at,
  };
}

export class PrismaLogoutDeliveryRepository implements LogoutDeliveryRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async recordSessionClient(sessionId: string, clientId: string, at: Date): Promise<void> {
    if (!isUuid(sessionId)) return;
    // Through the session row, so a session purged meanwhile records nothing (no FK error).
    await this.prisma.$executeRaw`
      INSERT INTO session_clients (session_id, client_id, created_at)
      SELECT id, ${clientId}, ${at} FROM browser_sessions WHERE id = ${sessionId}::uuid
      ON CONFLICT DO NOTHING`;
  }

  async endSession(
    sessionId: string,
    { at, giveUpAt, reason }: EnqueueOptions,
  ): Promise<{ ended: boolean; queued: number }> {
    if (!isUuid(sessionId)) return { ended: false, queued: 0 };
    // One statement: the session ends if and only if its logout tokens are queued.
    const rows = await this.prisma.$queryRaw<{ ended: number; queued: number }[]>`
      WITH ended AS (
        UPDATE browser_sessions SET ended_at = ${at}
         WHERE id = ${sessionId}::uuid AND ended_at IS NULL
        RETURNING id, user_id
      ), queued AS (
        INSERT INTO backchannel_logout_deliveries
          (id, client_id, user_id, session_id, reason, attempts, next_attempt_at, give_up_at, created_at)
        SELECT gen_random_uuid(), sc.client_id, e.user_id, e.id, ${reason}, 0, ${at}, ${giveUpAt}, ${at}
          FROM ended e
          JOIN session_clients sc ON sc.session_id = e.id
          JOIN clients c ON c.id = sc.client_id
         WHERE c.backchannel_logout_uri IS NOT NULL AND NOT c.disabled
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM ended)::int AS ended, (SELECT count(*) FROM queued)::int AS queued`;
    return { ended: (rows[0]?.ended ?? 0) > 0, queued: rows[0]?.queued ?? 0 };
  }

  async enqueueForUser(userId: string, { at, giveUpAt, reason }: EnqueueOptions): Promise<number> {
    if (!isUuid(userId)) return 0;
    // UNION removes the pairs both sources name (a family born in a live session).
    return this.prisma.$executeRaw`
      INSERT INTO backchannel_logout_deliveries
        (id, client_id, user_id, session_id, reason, attempts, next_attempt_at, give_up_at, created_at)
      SELECT gen_random_uuid(), t.client_id, ${userId}::uuid, t.session_id, ${reason}, 0, ${at}, ${giveUpAt}, ${at}
        FROM (
          SELECT sc.client_id, sc.session_id
            FROM browser_sessions s JOIN session_clients sc ON sc.session_id = s.id
           WHERE s.user_id = ${userId}::uuid AND s.ended_at IS NULL AND s.expires_at > ${at}
          UNION
          SELECT f.client_id, f.session_id
            FROM refresh_token_families f
           WHERE f.user_id = ${userId}::uuid AND f.revoked_at IS NULL AND f.expires_at > ${at}
        ) t
        JOIN clients c ON c.id = t.client_id
       WHERE c.backchannel_logout_uri IS NOT NULL AND NOT c.disabled
         AND (t.session_id IS NOT NULL OR NOT c.backchannel_logout_session_required)`;
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<LogoutDeliveryRecord[]> {
    const rows = await this.prisma.$queryRaw<DeliveryRow[]>`
      UPDATE backchannel_logout_deliveries d
         SET attempts = d.attempts + 1, next_attempt_at = ${leaseUntil}
        FROM (SELECT id FROM backchannel_logout_deliveries
               WHERE next_attempt_at <= ${now}
               ORDER BY next_attempt_at
               LIMIT ${limit}
               FOR UPDATE SKIP LOCKED) due
       WHERE d.id = due.id
      RETURNING d.id::text, d.client_id, d.user_id::text, d.session_id::text, d.reason,
                d.attempts, d.created_at, d.give_up_at`;
    return rows.map(toRecord);
  }

  async finish(id: string, attempts: number): Promise<void> {
    await this.prisma.backchannelLogoutDelivery.deleteMany({ where: { id, attempts } });
  }

  async retryAt(id: string, attempts: number, next: Date, error: string): Promise<void> {
    await this.prisma.backchannelLogoutDelivery.updateMany({
      where: { id, attempts },
      data: { nextAttemptAt: next, lastError: error.slice(0, 500) },
    });
  }

  async pending(): Promise<LogoutDeliveryRecord[]> {
    const rows = await this.prisma.backchannelLogoutDelivery.findMany({
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => ({
      id: r.id,
      clientId: r.clientId,
      userId: r.userId,
      sessionId: r.sessionId,
      reason: r.reason,
      attempts: r.attempts,
      createdAt: r.createdAt,
      giveUpAt: r.giveUpAt,
    }));
  }
}
