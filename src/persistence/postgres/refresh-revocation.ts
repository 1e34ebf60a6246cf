/** Ending refresh-token families: their tokens, their retry seals and their access tokens. */
import type { PrismaClient } from '../../generated/prisma/client';
import { ISSUER_EXP_LEEWAY_SECONDS } from '../../tokens/access-token-expiry';

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * Revokes the refresh tokens of the families and denies their still-accepted access tokens by
 * jti, each until accessTokenDeniedUntil(exp) — the same rule, in SQL, as every other writer
 * of the deny-list and the verifier's (tokens/access-token-expiry.ts).
 * Those a retried rotation minted are included. The retry seals go first: a retry in flight
 * holds its seal (refresh-replay.ts), so this waits for it and then sees the access token it
 * minted.
 */
export async function revokeTokensOf(
  tx: Tx,
  familyIds: string[],
  reason: string,
  at: Date,
): Promise<void> {
  await tx.$executeRaw`
    DELETE FROM refresh_retry_seals s USING refresh_tokens t
     WHERE s.token_id = t.id AND t.family_id = ANY(${familyIds}::uuid[])`;
  await tx.$executeRaw`
    UPDATE refresh_tokens SET revoked_at = ${at}
     WHERE family_id = ANY(${familyIds}::uuid[]) AND revoked_at IS NULL`;
  await tx.$executeRaw`
    INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at, reason)
    SELECT jti, denied_until, ${at}, ${reason}
      FROM (SELECT access_token_jti AS jti, access_token_expires_at + make_interval(secs => ${ISSUER_EXP_LEEWAY_SECONDS}::int) AS denied_until
              FROM refresh_tokens
             WHERE family_id = ANY(${familyIds}::uuid[]) AND access_token_jti IS NOT NULL
            UNION ALL
            SELECT jti, expires_at + make_interval(secs => ${ISSUER_EXP_LEEWAY_SECONDS}::int)
              FROM refresh_retry_access_tokens
             WHERE family_id = ANY(${familyIds}::uuid[])) AS t
     WHERE denied_until > ${at}
    ON CONFLICT (jti) DO NOTHING`;
}
