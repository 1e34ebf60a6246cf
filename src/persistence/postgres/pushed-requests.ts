/** Pushed authorization requests (pushed_authorization_requests): see oauth/authorization/pushed-request-storage.ts. */
import type { PrismaClient } from '../../generated/prisma/client';
import type {
  PushedRequest,
  PushedRequestRepository,
} from '../../oauth/authorization/pushed-request-storage';

export class PrismaPushedRequestRepository implements PushedRequestRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async save(requestUriHash: string, request: PushedRequest, expiresAt: Date): Promise<void> {
    await this.prisma.pushedAuthorizationRequest.create({
      data: {
        requestUriHash,
        clientId: request.clientId,
        params: request.params,
        resources: request.resources,
        signed: request.signed,
        expiresAt,
      },
    });
  }

  async consume(requestUriHash: string, now: Date): Promise<PushedRequest | null> {
    // One conditional update: of two arrivals with the same request_uri, exactly one wins.
    const rows = await this.prisma.pushedAuthorizationRequest.updateManyAndReturn({
      where: { requestUriHash, usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    const row = rows[0];
    if (!row) return null;
    return {
      clientId: row.clientId,
      params: row.params as Record<string, string>,
      resources: row.resources,
      signed: row.signed,
    };
  }
}
