/** Single-use JWT identifiers (used_jtis): see oauth/replay/used-jti-storage.ts. */
import { createHash } from 'node:crypto';
import type { SqlExecutor } from '../../db/database';
import type { JtiKind, UsedJtiRepository } from '../../oauth/replay/used-jti-storage';

export class PostgresUsedJtiRepository implements UsedJtiRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async useOnce(kind: JtiKind, key: string, expiresAt: Date): Promise<boolean> {
    const keyHash = createHash('sha256').update(key).digest('base64url');
    // An expired entry no longer blocks (its JWT is refused as expired before it gets here), so
    // it is taken over rather than waiting for the purge; a live one makes the insert a no-op.
    const rows = await this.sql.query<{ inserted: boolean }>(
      'used_jtis_use_once',
      `INSERT INTO used_jtis (kind, key_hash, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (kind, key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
           WHERE used_jtis.expires_at < now()
         RETURNING true AS inserted`,
      [kind, keyHash, expiresAt],
    );
    return rows.length === 1;
  }
}
