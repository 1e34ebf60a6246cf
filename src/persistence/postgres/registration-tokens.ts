/** Initial access tokens (registration_tokens): see oauth/registration/registration-token-storage.ts. */
import type { PrismaClient } from '../../generated/prisma/client';
import type {
  NewRegistrationToken,
  RegistrationPolicy,
  RegistrationTokenRepository,
} from '../../oauth/registration/registration-token-storage';

export class PrismaRegistrationTokenRepository implements RegistrationTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(token: NewRegistrationToken): Promise<void> {
    await this.prisma.registrationToken.create({
      data: { ...token, policy: { ...token.policy } },
    });
  }

  async use(tokenHash: string, now: Date): Promise<RegistrationPolicy | null> {
    const rows = await this.prisma.$queryRaw<{ policy: RegistrationPolicy }[]>`
      UPDATE registration_tokens SET uses = uses + 1
       WHERE token_hash = ${tokenHash}
         AND (max_uses IS NULL OR uses < max_uses)
         AND (expires_at IS NULL OR expires_at > ${now})
       RETURNING policy`;
    return rows[0]?.policy ?? null;
  }
}
