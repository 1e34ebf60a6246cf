/**
 * Bulk-loads a migrated Tessera database to a stated volume with `INSERT … SELECT
 * generate_series` into the real tables (logged, with every index and foreign key in place),
 * then ANALYZEs it, so the hot statements are measured against the row counts and index depths
 * of a deployment that has been running for a while.
 *
 * Every value a scenario needs back is derived from the row number: user n is
 * `scale-user-n@scale.example` with SCALE_PASSWORD, refresh token j of family n is
 * `scale-rt-n-j` (only its SHA-256 is stored, as the server stores it). Keys are md5-derived
 * UUIDs, so index inserts land at random pages as real UUID keys do.
 */
import pg from 'pg';
import { PasswordHasher, type Argon2Params } from '../../src/accounts/passwords';

/** The reference volumes (`--scale 1`); N scales every one. */
export const REFERENCE_VOLUMES = {
  users: 1_000_000,
  clients: 100_000,
  families: 1_000_000,
  /** Refresh-token rows: TOKENS_PER_FAMILY per family, all but the last already rotated. */
  refreshTokens: 5_000_000,
  /** Revoked access-token jtis, half of them past their expiry. */
  revokedJtis: 1_000_000,
  auditEvents: 2_000_000,
  browserSessions: 500_000,
} as const;

export type Volumes = Record<keyof typeof REFERENCE_VOLUMES, number>;

export const TOKENS_PER_FAMILY = 5;

/** The password of every bulk-loaded user (bench data only). */
export const SCALE_PASSWORD = 'scale-password-0123456789';

export function volumesAt(scale: number): Volumes {
  const v = {} as Volumes;
  for (const [k, n] of Object.entries(REFERENCE_VOLUMES))
    v[k as keyof Volumes] = Math.max(1, Math.round(n * scale));
  v.refreshTokens = v.families * TOKENS_PER_FAMILY;
  return v;
}

export const scaleUserEmail = (n: number) => `scale-user-${n}@scale.example`;

/** SQL: the server's hash of an opaque value (SHA-256, base64url without padding; src/shared/crypto.ts). */
const b64urlSha256 = (textExpr: string) =>
  `rtrim(translate(encode(sha256(convert_to(${textExpr}, 'UTF8')), 'base64'), '+/', '-_'), '=')`;
const uuidOf = (textExpr: string) => `md5(${textExpr})::uuid`;

export interface LoadStep {
  table: string;
  rows: number;
  ms: number;
}

/**
 * Loads `volumes` into the database at `url`, after the bench's own seed (whose clients serve
 * as the template of every bulk client, so each row is one the server could have written).
 */
export async function bulkLoad(
  url: string,
  volumes: Volumes,
  argon2: Argon2Params,
  log: (msg: string) => void = () => {},
): Promise<LoadStep[]> {
  const passwordHash = await new PasswordHasher(argon2, 1).hash(SCALE_PASSWORD);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const steps: LoadStep[] = [];
  const step = async (table: string, rows: number, sql: string, params: unknown[] = []) => {
    const t0 = Date.now();
    await db.query(sql, params);
    steps.push({ table, rows, ms: Date.now() - t0 });
    log(`  ${table}: ${rows.toLocaleString('en-US')} rows in ${Date.now() - t0} ms`);
  };
  try {
    // A bulk load is one session's work: spare it the per-commit flush (the tables stay logged).
    await db.query('SET synchronous_commit = off');
    await db.query('SET statement_timeout = 0');
    const { users: U, clients: C, families: F, revokedJtis: J } = volumes;
    await step(
      'users',
      U,
      `INSERT INTO users (id, email, password_hash, email_verified, name, roles, created_at, updated_at)
       SELECT ${uuidOf(`'u' || n`)}, 'scale-user-' || n || '@scale.example', $1, true,
              'Scale User ' || n, ARRAY['user'], now() - (n % 700) * interval '1 day', now()
       FROM generate_series(1, $2::int) n`,
      [passwordHash, U],
    );
    const columns = await clientColumns(db);
    await step(
      'clients',
      C,
      `INSERT INTO clients (id, name, ${columns.join(', ')})
       SELECT 'scale-client-' || n, 'Scale client ' || n, ${columns.map((c) => `t.${c}`).join(', ')}
       FROM generate_series(1, $1::int) n,
            (SELECT * FROM clients WHERE id NOT LIKE 'scale-client-%' ORDER BY id LIMIT 1) t`,
      [C],
    );
    // One family in ten expired, one in ten revoked (what a purge would find), the rest live.
    await step(
      'refresh_token_families',
      F,
      `INSERT INTO refresh_token_families
         (id, client_id, user_id, scope, auth_time, amr, created_at, expires_at, revoked_at, revoked_reason)
       SELECT ${uuidOf(`'f' || n`)}, 'scale-client-' || (1 + n % $2::int), ${uuidOf(`'u' || (1 + n % $3::int)`)},
              'openid offline_access api:read', now() - interval '2 days', ARRAY['pwd'],
              now() - interval '2 days',
              CASE WHEN n % 10 = 0 THEN now() - interval '1 day' ELSE now() + interval '28 days' END,
              CASE WHEN n % 10 = 1 THEN now() - interval '1 hour' END,
              CASE WHEN n % 10 = 1 THEN 'logout' END
       FROM generate_series(1, $1::int) n`,
      [F, C, U],
    );
    // Token j of a family: rotated for j < last, the last one live (the chain a client walks).
    const last = TOKENS_PER_FAMILY - 1;
    await step(
      'refresh_tokens',
      volumes.refreshTokens,
      `INSERT INTO refresh_tokens
         (id, family_id, token_hash, parent_id, scope, access_token_jti, access_token_expires_at,
          created_at, idle_expires_at, rotated_at)
       SELECT ${uuidOf(`'t' || n || '-' || j`)}, ${uuidOf(`'f' || n`)},
              ${b64urlSha256(`'scale-rt-' || n || '-' || j`)},
              CASE WHEN j > 0 THEN ${uuidOf(`'t' || n || '-' || (j - 1)`)} END,
              'openid offline_access api:read', 'scale-at-' || n || '-' || j,
              now() - interval '2 days' + (j + 1) * interval '15 minutes',
              now() - interval '2 days' + j * interval '15 minutes',
              now() + interval '14 days',
              CASE WHEN j < ${last} THEN now() - interval '2 days' + (j + 1) * interval '15 minutes' END
       FROM generate_series(1, $1::int) n, generate_series(0, ${last}) j`,
      [F],
    );
    await step(
      'revoked_access_tokens',
      J,
      `INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at, reason)
       SELECT md5('jti' || n),
              CASE WHEN n % 2 = 0 THEN now() - interval '1 hour' ELSE now() + interval '1 hour' END,
              now() - interval '2 hours', 'revoked'
       FROM generate_series(1, $1::int) n`,
      [J],
    );
    await step(
      'audit_events',
      volumes.auditEvents,
      `INSERT INTO audit_events (at, type, user_id, client_id, ip, request_id, details)
       SELECT now() - (n % 90) * interval '1 day' - (n % 86400) * interval '1 second',
              (ARRAY['login.succeeded', 'token.issued', 'token.refreshed', 'token.revoked',
                     'login.failed', 'client.updated', 'user.disabled', 'keys.rotated'])[1 + (n * 7) % 8],
              ${uuidOf(`'u' || (1 + n % $2::int)`)}, 'scale-client-' || (1 + n % $3::int),
              '10.' || (n % 250) || '.' || (n / 250 % 250) || '.1', md5('r' || n), '{}'::jsonb
       FROM generate_series(1, $1::int) n`,
      [volumes.auditEvents, U, C],
    );
    // One session in five expired, one in ten ended.
    await step(
      'browser_sessions',
      volumes.browserSessions,
      `INSERT INTO browser_sessions (id, secret_hash, user_id, auth_time, amr, created_at, last_seen_at, expires_at, ended_at)
       SELECT ${uuidOf(`'s' || n`)}, ${b64urlSha256(`'scale-session-' || n`)}, ${uuidOf(`'u' || (1 + n % $2::int)`)},
              now() - interval '1 day', ARRAY['pwd'], now() - interval '1 day', now() - interval '1 hour',
              CASE WHEN n % 5 = 0 THEN now() - interval '1 hour' ELSE now() + interval '1 day' END,
              CASE WHEN n % 10 = 1 THEN now() - interval '2 hours' END
       FROM generate_series(1, $1::int) n`,
      [volumes.browserSessions, U],
    );
    const t0 = Date.now();
    await db.query('ANALYZE');
    steps.push({ table: 'ANALYZE', rows: 0, ms: Date.now() - t0 });
    log(`  ANALYZE in ${Date.now() - t0} ms`);
    return steps;
  } finally {
    await db.end();
  }
}

/** Every column of clients but id and name: copied from the template client, so new columns come along. */
async function clientColumns(db: pg.Client): Promise<string[]> {
  const { rows } = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'clients'
       AND column_name NOT IN ('id', 'name') AND is_generated = 'NEVER'
     ORDER BY ordinal_position`,
  );
  return rows.map((r) => `"${r.column_name}"`);
}

/**
 * `count` live refresh-token families of `clientId` for `userId`, one live token each, with the
 * values `${prefix}-n` (n from 1): what the revocation scenario revokes, one per request, on
 * either database (its tokens must be the caller's, RFC 7009 §2.1).
 */
export async function insertRevocationTargets(
  url: string,
  target: { clientId: string; userId: string; prefix: string; count: number },
): Promise<string[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { prefix, count } = target;
    await db.query(
      `WITH f AS (
         INSERT INTO refresh_token_families (id, client_id, user_id, scope, auth_time, amr, expires_at)
         SELECT ${uuidOf(`$1 || '-f-' || n`)}, $2, $3::uuid, 'openid offline_access api:read',
                now(), ARRAY['pwd'], now() + interval '1 day'
         FROM generate_series(1, $4::int) n
         RETURNING id)
       INSERT INTO refresh_tokens (id, family_id, token_hash, scope, idle_expires_at)
       SELECT ${uuidOf(`$1 || '-t-' || n`)}, ${uuidOf(`$1 || '-f-' || n`)},
              ${b64urlSha256(`$1 || '-' || n`)}, 'openid offline_access api:read', now() + interval '1 day'
       FROM generate_series(1, $4::int) n`,
      [prefix, target.clientId, target.userId, count],
    );
    // The planner must see them (the bench's PostgreSQL may run without autovacuum).
    await db.query('ANALYZE refresh_token_families, refresh_tokens');
    return Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  } finally {
    await db.end();
  }
}

export interface SizeRow {
  name: string;
  bytes: number;
}

export interface DatabaseSizes {
  databaseBytes: number;
  tables: SizeRow[];
  indexes: SizeRow[];
  /** Row counts of the loaded tables (exact). */
  rows: Record<string, number>;
}

const COUNTED = [
  'users',
  'clients',
  'refresh_token_families',
  'refresh_tokens',
  'revoked_access_tokens',
  'audit_events',
  'browser_sessions',
];

/** The database's size, its largest tables (heap + TOAST) and indexes, and the loaded tables' row counts. */
export async function databaseSizes(url: string, top = 8): Promise<DatabaseSizes> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const size = await db.query<{ b: string }>('SELECT pg_database_size(current_database()) b');
    const rel = async (kind: string) =>
      (
        await db.query<{ name: string; b: string }>(
          `SELECT c.relname name, pg_table_size(c.oid) b FROM pg_class c
           JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname = current_schema() AND c.relkind = $1
           ORDER BY pg_table_size(c.oid) DESC, c.relname LIMIT $2`,
          [kind, top],
        )
      ).rows.map((r) => ({ name: r.name, bytes: Number(r.b) }));
    const rows: Record<string, number> = {};
    for (const t of COUNTED)
      rows[t] = Number((await db.query<{ n: string }>(`SELECT count(*) n FROM ${t}`)).rows[0]!.n);
    return {
      databaseBytes: Number(size.rows[0]!.b),
      tables: await rel('r'),
      indexes: await rel('i'),
      rows,
    };
  } finally {
    await db.end();
  }
}
