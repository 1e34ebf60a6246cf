/** Client administration shared by the CLI and the demo seed. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { generateClientSecret, hashClientSecret } from '../oauth/client-auth/secrets';
import { GRANT_TYPES, SIGNING_ALGS, type ClientRecord } from '../persistence/types';
import type { Services } from '../services';
import { AdminError } from './users';

const absoluteUri = z.url().refine((u) => !u.includes('#'), 'must not contain a fragment (RFC 6749 §3.1.2)');

export const newClientInput = z
  .object({
    name: z.string().min(1).max(200),
    isPublic: z.boolean().default(false),
    firstParty: z.boolean().default(false),
    redirectUris: z.array(absoluteUri).max(50).default([]),
    postLogoutRedirectUris: z.array(absoluteUri).max(50).default([]),
    grantTypes: z.array(z.enum(GRANT_TYPES)).min(1).default(['authorization_code', 'refresh_token']),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scope tokens are printable ASCII without spaces, quotes or backslashes')).default(['openid', 'profile', 'email', 'offline_access']),
    audiences: z.array(z.string().min(1).max(500)).max(20).default([]),
    signingAlg: z.enum(SIGNING_ALGS as [string, ...string[]]).nullable().default(null),
    accessTokenTtl: z.number().int().min(1).nullable().default(null),
    idTokenTtl: z.number().int().min(1).nullable().default(null),
    refreshTokenTtl: z.number().int().min(1).nullable().default(null),
    refreshTokenIdleTtl: z.number().int().min(1).nullable().default(null),
  })
  .superRefine((c, ctx) => {
    if (c.grantTypes.includes('password') && !c.firstParty) {
      ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'the password grant is for first-party clients only (--first-party)' });
    }
    if (c.grantTypes.includes('client_credentials') && c.isPublic) {
      ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'public clients cannot use client_credentials' });
    }
    if (c.grantTypes.includes('authorization_code') && c.redirectUris.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'authorization_code needs at least one --redirect-uri' });
    }
  });

export type NewClientInput = z.input<typeof newClientInput>;

/** Creates a client; returns the plaintext secret once (only its hash is stored). */
export async function createClient(services: Pick<Services, 'clients' | 'audit'>, input: NewClientInput): Promise<{ client: ClientRecord; secret: string | null }> {
  const parsed = newClientInput.safeParse(input);
  if (!parsed.success) throw new AdminError(parsed.error.issues.map((i) => `${i.path.join('.') || 'client'}: ${i.message}`).join('; '));
  const c = parsed.data;
  const secret = c.isPublic ? null : generateClientSecret();
  const client = await services.clients.create({
    ...c,
    id: randomUUID(),
    secretHash: secret ? hashClientSecret(secret) : null,
    signingAlg: c.signingAlg as ClientRecord['signingAlg'],
  });
  await services.audit.record({ type: 'client.created', clientId: client.id, details: { name: client.name } });
  return { client, secret };
}

export async function rotateClientSecret(services: Pick<Services, 'clients' | 'audit' | 'clock'>, clientId: string): Promise<string> {
  const client = await services.clients.findById(clientId);
  if (!client) throw new AdminError(`no client ${clientId}`);
  if (client.isPublic) throw new AdminError('public clients have no secret');
  const secret = generateClientSecret();
  await services.clients.setSecretHash(client.id, hashClientSecret(secret), services.clock.now());
  await services.audit.record({ type: 'client.secret_rotated', clientId: client.id });
  return secret;
}
