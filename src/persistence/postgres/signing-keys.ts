import type { Prisma, PrismaClient, SigningKey } from '../../generated/prisma/client';
import type {
  NewSigningKey,
  SigningKeyPatch,
  SigningKeyRecord,
  SigningKeyRepository,
  SigningKeyTx,
} from '../../keys/signing-key-storage';
import type { SigningAlg } from '../../keys/algorithms';

/** Oldest first; kid breaks ties so every instance serves byte-identical JWKS (same ETag). */
const ORDER: Prisma.SigningKeyOrderByWithRelationInput[] = [{ createdAt: 'asc' }, { kid: 'asc' }];

/** Advisory-lock key of the key store (any constant distinct from the migration lock). */
const KEY_STORE_LOCK = 0x7e55e7a_0002n;

function toRecord(k: SigningKey): SigningKeyRecord {
  return {
    kid: k.kid,
    alg: k.alg as SigningAlg,
    state: k.state,
    publicJwk: k.publicJwk as Record<string, string>,
    privateKeyCipher: k.privateKeyCipher ? Buffer.from(k.privateKeyCipher) : null,
    kekId: k.kekId,
    createdAt: k.createdAt,
    publishedAt: k.publishedAt,
    activatedAt: k.activatedAt,
    retiringAt: k.retiringAt,
    retireAfter: k.retireAfter,
    retiredAt: k.retiredAt,
    updatedAt: k.updatedAt,
  };
}

function toData(patch: SigningKeyPatch): Prisma.SigningKeyUpdateInput {
  const { privateKeyCipher, ...rest } = patch;
  return {
    ...rest,
    ...(privateKeyCipher === undefined
      ? {}
      : { privateKeyCipher: privateKeyCipher === null ? null : new Uint8Array(privateKeyCipher) }),
  };
}

function txOps(tx: Prisma.TransactionClient): SigningKeyTx {
  return {
    async list() {
      return (await tx.signingKey.findMany({ orderBy: ORDER })).map(toRecord);
    },
    async insert(key: NewSigningKey) {
      await tx.signingKey.create({
        data: {
          ...key,
          publicJwk: key.publicJwk,
          privateKeyCipher: key.privateKeyCipher ? new Uint8Array(key.privateKeyCipher) : null,
        },
      });
    },
    async transition(kid, from, patch) {
      const res = await tx.signingKey.updateMany({
        where: { kid, state: from },
        data: toData(patch),
      });
      return res.count === 1;
    },
    async update(kid, patch) {
      await tx.signingKey.update({ where: { kid }, data: toData(patch) });
    },
  };
}

export class PrismaSigningKeyRepository implements SigningKeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async listPublished(): Promise<SigningKeyRecord[]> {
    return (
      await this.prisma.signingKey.findMany({
        where: { state: { not: 'retired' } },
        orderBy: ORDER,
      })
    ).map(toRecord);
  }

  async listAll(): Promise<SigningKeyRecord[]> {
    return (await this.prisma.signingKey.findMany({ orderBy: ORDER })).map(toRecord);
  }

  /**
   * A digest of every row's kid, state, KEK and update time. A count plus max(updated_at) would
   * miss a change stamped earlier than the newest row (instances' clocks differ) that does not
   * change the count, such as a retirement; the table holds a few dozen rows at most.
   */
  async version(): Promise<string> {
    const rows = await this.prisma.$queryRaw<{ v: string | null }[]>`
      SELECT md5(coalesce(string_agg(kid || ':' || state::text || ':' || coalesce(kek_id, '') || ':' || updated_at::text, ',' ORDER BY kid), '')) AS v
      FROM signing_keys`;
    return rows[0]?.v ?? '';
  }

  locked<T>(fn: (tx: SigningKeyTx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEY_STORE_LOCK})`;
        return fn(txOps(tx));
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  }

  tryLocked<T>(fn: (tx: SigningKeyTx) => Promise<T>): Promise<T | null> {
    return this.prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<
          { ok: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(${KEY_STORE_LOCK}) AS ok`;
        if (!rows[0]?.ok) return null;
        return fn(txOps(tx));
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  }
}
