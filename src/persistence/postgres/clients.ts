import type { Client, PrismaClient } from '../../generated/prisma/client';
import { Prisma } from '../../generated/prisma/client';
import {
  redirectOrigins,
  type ClientJwks,
  type ClientRecord,
  type ClientRepository,
  type ClientUpdate,
  type GrantType,
  type NewClient,
  type TokenEndpointAuthMethod,
  type TokenExchangePolicy,
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
    jwks: (c.jwks as ClientJwks | null) ?? null,
    jwksUri: c.jwksUri,
    tokenEndpointAuthSigningAlg: c.tokenEndpointAuthSigningAlg,
    secretCiphertext: c.secretCiphertext,
    dpopBoundAccessTokens: c.dpopBoundAccessTokens,
    requirePushedAuthorizationRequests: c.requirePushedAuthorizationRequests,
    requireSignedRequestObject: c.requireSignedRequestObject,
    requestObjectSigningAlg: c.requestObjectSigningAlg,
    registrationTokenHash: c.registrationTokenHash,
    registrant: c.registrant ?? null,
    tokenExchange: (c.tokenExchange as TokenExchangePolicy | null) ?? null,
    backchannelLogoutUri: c.backchannelLogoutUri,
    backchannelLogoutSessionRequired: c.backchannelLogoutSessionRequired,
    disabled: c.disabled,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export class PrismaClientRepository implements ClientRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(client: NewClient): Promise<ClientRecord> {
    const { jwks, registrant, tokenExchange, ...rest } = client;
    return toRecord(
      await this.prisma.client.create({
        data: {
          ...rest,
          registrant: registrant ? (registrant as Prisma.InputJsonValue) : Prisma.DbNull,
          jwks: jwksColumn(jwks),
          tokenExchange: exchangeColumn(tokenExchange),
          redirectOrigins: redirectOrigins(client.redirectUris),
        },
      }),
    );
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

  async longestTokenTtl(): Promise<number | null> {
    const { _max } = await this.prisma.client.aggregate({
      _max: { accessTokenTtl: true, idTokenTtl: true },
    });
    const values = [_max.accessTokenTtl, _max.idTokenTtl].filter((v): v is number => v !== null);
    return values.length ? Math.max(...values) : null;
  }

  async hasRedirectOrigin(origin: string): Promise<boolean> {
    // `@>` is what clients_redirect_origins_idx (GIN) answers. Counted rather than LIMIT 1: the
    // planner cannot estimate how rare one origin is, and a LIMIT makes a scan of every client
    // look cheap; the count is of the few clients sharing one origin.
    const rows = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM clients
       WHERE redirect_origins @> ARRAY[${origin}]::text[] AND NOT disabled`;
    return (rows[0]?.n ?? 0) > 0;
  }

  async setSecretHash(
    id: string,
    secretHash: string,
    at: Date,
    secretCiphertext: string | null = null,
  ): Promise<void> {
    await this.prisma.client.update({
      where: { id },
      data: { secretHash, secretCiphertext, secretRotatedAt: at },
    });
  }

  async update(id: string, update: ClientUpdate, at: Date): Promise<ClientRecord | null> {
    const rotated = update.secretHash === undefined ? {} : { secretRotatedAt: at };
    const { jwks, tokenExchange, ...rest } = update;
    const rows = await this.prisma.client.updateManyAndReturn({
      where: { id },
      data: {
        // A setting the update leaves out returns to its default.
        tokenEndpointAuthMethod: null,
        clientUri: null,
        logoUri: null,
        jwksUri: null,
        tokenEndpointAuthSigningAlg: null,
        dpopBoundAccessTokens: false,
        requirePushedAuthorizationRequests: false,
        requireSignedRequestObject: false,
        requestObjectSigningAlg: null,
        backchannelLogoutUri: null,
        backchannelLogoutSessionRequired: false,
        ...rest,
        jwks: jwksColumn(jwks),
        tokenExchange: exchangeColumn(tokenExchange),
        redirectOrigins: redirectOrigins(update.redirectUris),
        ...rotated,
        updatedAt: at,
      },
    });
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async delete(id: string): Promise<boolean> {
    const { count } = await this.prisma.client.deleteMany({ where: { id } });
    return count === 1;
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.prisma.client.update({ where: { id }, data: { disabled } });
  }
}

/** A JWK Set for the jsonb column; SQL NULL (not JSON null) when there is none. */
function jwksColumn(
  jwks: ClientJwks | null | undefined,
): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return jwks ? (jwks as unknown as Prisma.InputJsonValue) : Prisma.DbNull;
}

/** A token-exchange policy for the jsonb column; SQL NULL when the client has none. */
function exchangeColumn(
  policy: TokenExchangePolicy | null | undefined,
): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return policy ? (policy as unknown as Prisma.InputJsonValue) : Prisma.DbNull;
}
