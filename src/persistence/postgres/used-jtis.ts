/** Single-use JWT identifiers (used_jtis): see oauth/replay/used-jti-storage.ts. */
import { createHash } from 'node:crypto';
import { Batcher } from '../../db/batch';
import type { SqlExecutor } from '../../db/database';
import type { JtiKind, UsedJtiRepository } from '../../oauth/replay/used-jti-storage';

interface Use {
  kind: JtiKind;
  keyHash: string;
  expiresAt: Date;
}

/**
 * Records identifiers not recorded yet (or whose entry has expired: its JWT is refused as
 * expired before it gets here, so it is taken over rather than waiting for the purge) and
 * returns the ones it recorded; a live entry makes its row a no-op.
 */
const USE_ONCE_BATCH = `INSERT INTO used_jtis (kind, key_hash, expires_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
         ON CONFLICT (kind, key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
           WHERE used_jtis.expires_at < now()
         RETURNING kind, key_hash`;

export class PostgresUsedJtiRepository implements UsedJtiRepository {
  /**
   * The uses of one turn of the event loop, one statement (one round trip, one commit) per
   * batch, each use still answered on its own: every DPoP request records its proof
   * (docs/performance.md, "cross-request batcher: used jtis").
   */
  private readonly uses = new Batcher<Use, boolean>((batch) => this.useBatch(batch));

  constructor(private readonly sql: SqlExecutor) {}

  useOnce(kind: JtiKind, key: string, expiresAt: Date): Promise<boolean> {
    const keyHash = createHash('sha256').update(key).digest('base64url');
    return this.uses.load({ kind, keyHash, expiresAt });
  }

  private async useBatch(uses: Use[]): Promise<boolean[]> {
    // The same identifier twice in one batch: only its first use may record it (as it would
    // have, one statement earlier); the rest are replays.
    const first = new Map<string, number>();
    uses.forEach((u, i) => {
      if (!first.has(idOf(u))) first.set(idOf(u), i);
    });
    // In key order, so two batches never take the same keys' locks in opposite orders.
    const distinct = [...first.values()]
      .map((i) => uses[i]!)
      .sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
    const rows = await this.sql.query<{ kind: string; key_hash: string }>(
      'used_jtis_use_once',
      USE_ONCE_BATCH,
      [
        distinct.map((u) => u.kind),
        distinct.map((u) => u.keyHash),
        distinct.map((u) => u.expiresAt),
      ],
    );
    const recorded = new Set(rows.map((r) => `${r.kind}:${r.key_hash}`));
    return uses.map((u, i) => first.get(idOf(u)) === i && recorded.has(idOf(u)));
  }
}

const idOf = (u: Use) => `${u.kind}:${u.keyHash}`;
