/**
 * Recognises database failures that mean "the database is unreachable or too slow right now"
 * (as opposed to a bug), so the HTTP layer can answer 503 temporarily_unavailable.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08006',
  'P1001', // Prisma: can't reach database server
  'P1002',
  'P1008', // operation timed out
  'P1017', // server closed the connection
  'P2024', // timed out fetching a connection from the pool
  'P2028', // transaction could not start in time (pool exhausted under overload)
]);

const UNAVAILABLE_MESSAGE =
  /connection (terminated|timeout|refused|closed|ended)|timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED|ECONNRESET|server closed the connection|canceling statement due to statement timeout|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout|DatabaseNotReachable|SocketTimeout|ConnectionClosed|TooManyConnections/i;

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    meta?: unknown;
    name?: unknown;
  };
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  if (e.meta && typeof e.meta === 'object') {
    const m = e.meta as { driverAdapterError?: unknown; code?: unknown };
    if (isDatabaseUnavailable(m.driverAdapterError, depth + 1)) return true;
    if (typeof m.code === 'string' && UNAVAILABLE_CODES.has(m.code)) return true;
  }
  return isDatabaseUnavailable(e.cause, depth + 1);
}
