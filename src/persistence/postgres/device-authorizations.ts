/**
 * Device authorization requests (device_authorizations): see oauth/device/device-storage.ts.
 * Every state change is one conditional statement, so two concurrent decisions, polls or
 * redemptions cannot both act on what only one of them may.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceAuthorization, PrismaClient } from '../../generated/prisma/client';
import type { SqlExecutor } from '../../db/database';
import { namedSql } from '../../db/named-sql';
import type {
  DeviceAuthorizationRecord,
  DeviceAuthorizationRepository,
  DeviceDecision,
  DevicePoll,
  DeviceStatus,
  NewDeviceAuthorization,
} from '../../oauth/device/device-storage';

function toRecord(row: DeviceAuthorization): DeviceAuthorizationRecord {
  return {
    id: row.id,
    clientId: row.clientId,
    scope: row.scope,
    resources: row.resources,
    status: row.status as DeviceStatus,
    interval: row.interval,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decision:
      row.userId && row.sessionId && row.authTime
        ? { userId: row.userId, sessionId: row.sessionId, authTime: row.authTime, amr: row.amr }
        : null,
  };
}

const COLUMNS = `d.id, d.client_id AS "clientId", d.scope, d.resources, d.status, d.interval,
  d.created_at AS "createdAt", d.expires_at AS "expiresAt", d.user_id AS "userId",
  d.session_id AS "sessionId", d.auth_time AS "authTime", d.amr`;

/**
 * poll(): the request of `{hash}` and `{clientId}`, locked (FOR UPDATE: concurrent polls take
 * turns, each seeing the one before), gets the poll's time `{now}`; a pending one polled sooner
 * than its interval after the previous poll gets `{slowDown}` seconds more (RFC 8628 §3.5).
 */
const POLL = namedSql(`UPDATE device_authorizations AS d SET
    last_polled_at = {now}::timestamptz,
    interval = CASE
      WHEN d.status = 'pending' AND prev.last_polled_at IS NOT NULL
        AND {now}::timestamptz < prev.last_polled_at + make_interval(secs => prev.interval)
      THEN prev.interval + {slowDown}::int ELSE prev.interval END
  FROM (SELECT id, last_polled_at, interval FROM device_authorizations
        WHERE device_code_hash = {hash} AND client_id = {clientId} FOR UPDATE) AS prev
  WHERE d.id = prev.id
  RETURNING ${COLUMNS}, d.interval > prev.interval AS "tooFast"`);

export class PrismaDeviceAuthorizationRepository implements DeviceAuthorizationRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  async create(request: NewDeviceAuthorization): Promise<DeviceAuthorizationRecord | null> {
    // A user_code already taken inserts nothing (ON CONFLICT DO NOTHING): the caller draws again.
    const rows = await this.prisma.deviceAuthorization.createManyAndReturn({
      data: [{ id: randomUUID(), ...request }],
      skipDuplicates: true,
    });
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findPendingByUserCode(
    userCodeHash: string,
    now: Date,
  ): Promise<DeviceAuthorizationRecord | null> {
    const row = await this.prisma.deviceAuthorization.findFirst({
      where: { userCodeHash, status: 'pending', expiresAt: { gt: now } },
    });
    return row && toRecord(row);
  }

  async decide(
    id: string,
    approved: boolean,
    decision: DeviceDecision,
    now: Date,
  ): Promise<boolean> {
    const { count } = await this.prisma.deviceAuthorization.updateMany({
      where: { id, status: 'pending', expiresAt: { gt: now } },
      data: { status: approved ? 'approved' : 'denied', decidedAt: now, ...decision },
    });
    return count === 1;
  }

  async poll(
    deviceCodeHash: string,
    clientId: string,
    now: Date,
    slowDownSeconds: number,
  ): Promise<DevicePoll | null> {
    const rows = await this.sql.query<DeviceAuthorization & { tooFast: boolean }>(
      'device_poll',
      POLL.text,
      POLL.values({ hash: deviceCodeHash, clientId, now, slowDown: slowDownSeconds }),
    );
    const row = rows[0];
    return row ? { record: toRecord(row), tooFast: row.tooFast } : null;
  }

  async redeem(id: string, now: Date): Promise<boolean> {
    const { count } = await this.prisma.deviceAuthorization.updateMany({
      where: { id, status: 'approved' },
      data: { status: 'redeemed', redeemedAt: now },
    });
    return count === 1;
  }
}
