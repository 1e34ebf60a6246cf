/**
 * `tessera audit list [--user E] [--since ISO|30m|1h|7d] [--type T] [--limit N] [--json]`:
 * reads the security audit trail (login successes and failures, lockouts, refresh reuse,
 * revocations, key rotations, client and user changes), newest first. Events are kept
 * AUDIT_RETENTION_DAYS days (the purge job deletes older ones).
 */
import type { AuditEventRecord } from '../../src/observability/audit-log';
import { iso, table } from './output';
import { UsageError, type Command, type CommandGroup } from './types';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `2026-11-23T10:00:00Z`, `2026-11-23`, or a duration back from now: `90s`, `30m`, `1h`, `7d`. */
export function parseSince(value: string, now: Date): Date {
  const rel = /^(\d{1,6})([smhd])$/.exec(value);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNITS[rel[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new UsageError(
    `--since must be an ISO date/time or a duration like 30m, 1h, 7d (got ${JSON.stringify(value)})`,
  );
}

function eventJson(e: AuditEventRecord) {
  return {
    id: e.id,
    at: iso(e.at),
    type: e.type,
    user_id: e.userId,
    client_id: e.clientId,
    ip: e.ip,
    request_id: e.requestId,
    details: e.details,
  };
}

const list: Command = {
  summary: 'list audit events, newest first (default: the last 100)',
  options: {
    user: { kind: 'string', value: 'E', help: 'only events of the user with this email' },
    since: { kind: 'string', value: 'ISO|1h|7d' },
    type: {
      kind: 'string',
      value: 'T',
      help: 'e.g. login.failure, login.lockout, refresh_token.reuse_detected',
    },
    limit: { kind: 'string', value: 'N', help: '1–10000, default 100' },
  },
  async run(args, ctx) {
    const limitArg = args.string('limit');
    const limit = limitArg === undefined ? 100 : Number(limitArg);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new UsageError('--limit must be a whole number from 1 to 10000');
    const sinceArg = args.string('since');
    const since = sinceArg === undefined ? undefined : parseSince(sinceArg, new Date());
    const type = args.string('type');
    if (type !== undefined && !/^[a-z0-9_.-]{1,100}$/.test(type))
      throw new UsageError('--type is an event type such as login.failure');
    const services = await ctx.services();
    const email = args.string('user');
    let userId: string | undefined;
    if (email !== undefined) {
      const user = await services.users.findByEmail(email);
      // An unknown user has no events; say so rather than list everyone's.
      if (!user) return { json: [], text: `no user ${email}` };
      userId = user.id;
    }
    const events = await services.audit.list({
      ...(userId ? { userId } : {}),
      ...(type ? { type } : {}),
      ...(since ? { since } : {}),
      limit,
    });
    return {
      json: events.map(eventJson),
      text: table(
        ['at', 'type', 'user_id', 'client_id', 'ip', 'details'],
        events.map((e) => [e.at, e.type, e.userId, e.clientId, e.ip, JSON.stringify(e.details)]),
      ),
    };
  },
};

export const auditCommands: CommandGroup = { list };
