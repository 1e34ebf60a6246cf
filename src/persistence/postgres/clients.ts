import type { Client, PrismaClient } from '../../generated/prisma/client';
import type {
  ClientRecord,
  ClientRepository,
  ClientUpdate,
  GrantType,
  NewClient,
  TokenEndpointAuthMethod,
} from '../../clients/client-storage';
import type { SigningAlg } from '../../keys/algorithms';

function toRecord(c: Client): ClientRecord {
  return {
    id: c.id,
    name: c.name,
    secretHash: c.secretHash,
    isPublic: c.isPublic,
    tokenEndpointAuthMethod: c.tokenEndpointAuthMethod as TokenEndpointAuthMethod | null,
    firstParty: c.firstParty,
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    grantTypes: c.grantTypes as GrantType[],
    scopes: c.scopes,
    audiences: c.audiences,
    accessTokenTtl: c.accessTokenTtl,
    idTokenTtl: c.idTokenTtl,
    refreshTokenTtl: c.refreshTokenTtl,
    refreshTokenIdleTtl: c.refreshTokenIdleTtl,
    signingAlg: c.signingAlg as SigningAlg | null,
    clientUri: c.clientUri,
    logoUri: c.logoUri,
    disabled: c.disabled,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export class PrismaClientRepository implements ClientRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(client: NewClient): Promise<ClientRecord> {
    return toRecord(await this.prisma.client.create({ data: { ...client } }));
  }

  async findById(id: string): Promise<ClientRecord | null> {
    // NUL cannot be stored in PostgreSQL text, so no client has it (the Basic header can carry it).
    if (id.length > 200 || id.includes('\0')) return null;
    const row = await this.prisma.client.findUnique({ where: { id } });
    return row && toRecord(row);
  }

  async list(): Promise<ClientRecord[]> {
    return (await this.prisma.client.findMany({ orderBy: { createdAt: 'asc' } })).map(toRecord);
  }

  async setSecretHash(id: string, secretHash: string, at: Date): Promise<void> {
    await this.prisma.client.update({ where: { id }, data: { secretHash, secretRotatedAt: at } });
  }

  async update(id: string, update: ClientUpdate, at: Date): Promise<ClientRecord | null> {
    const rotated = update.secretHash === undefined ? {} : { secretRotatedAt: at };
    const rows = await this.prisma.client.updateManyAndReturn({
      where: { id },
      data: {
        tokenEndpointAuthMethod: null,
        clientUri: null,
        logoUri: null,
        ...update,
        ...rotated,
        updatedAt: at,
      },
    });
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.prisma.client.update({ where: { id }, data: { disabled } });
  }
}
