/** Client administration shared by the CLI and the demo seed. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { redirectUriSchema } from '../oauth/authorization/redirect-uri';
import { generateClientSecret, hashClientSecret } from '../oauth/client-auth/secrets';
import { GRANT_TYPES, type ClientRecord } from '../clients/client-storage';
import { SIGNING_ALGS } from '../keys/algorithms';
import type { Services } from '../services';
import { describeIssues } from './issues';
import { AdminError } from './users';

export const newClientInput = z
  .object({
    name: z.string().min(1).max(200),
    isPublic: z.boolean().default(false),
    firstParty: z.boolean().default(false),
    // The rules of src/oauth/authorization/redirect-uri.ts (RFC 8252 §7, RFC 9700 §2.1, §4.1).
    redirectUris: z.array(redirectUriSchema).max(50).default([]),
    postLogoutRedirectUris: z.array(redirectUriSchema).max(50).default([]),
    grantTypes: z
      .array(z.enum(GRANT_TYPES))
      .min(1)
      .default(['authorization_code', 'refresh_token']),
    scopes: z
      .array(
        z
          .string()
          .regex(
            /^[\x21\x23-\x5B\x5D-\x7E]+$/,
            'scope tokens are printable ASCII without spaces, quotes or backslashes',
          ),
      )
      .default(['openid', 'profile', 'email', 'offline_access']),
    audiences: z.array(z.string().min(1).max(500)).max(20).default([]),
    signingAlg: z
      .enum(SIGNING_ALGS as [string, ...string[]])
      .nullable()
      .default(null),
    accessTokenTtl: z.number().int().min(1).nullable().default(null),
    idTokenTtl: z.number().int().min(1).nullable().default(null),
    refreshTokenTtl: z.number().int().min(1).nullable().default(null),
    refreshTokenIdleTtl: z.number().int().min(1).nullable().default(null),
  })
  .superRefine((c, ctx) => {
    if (c.grantTypes.includes('password') && !c.firstParty) {
      ctx.addIssue({
        code: 'custom',
        path: ['grantTypes'],
        message: 'the password grant is for first-party clients only (--first-party)',
      });
    }
    if (c.grantTypes.includes('client_credentials') && c.isPublic) {
      ctx.addIssue({
        code: 'custom',
        path: ['grantTypes'],
        message: 'public clients cannot use client_credentials',
      });
    }
    if (c.grantTypes.includes('authorization_code') && c.redirectUris.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['redirectUris'],
        message: 'authorization_code needs at least one --redirect-uri',
      });
    }
  });

export type NewClientInput = z.input<typeof newClientInput>;

/** Each input field under the name clients know it by (RFC 7591 §2 metadata names). */
export const CLIENT_FIELD_NAMES: Record<string, string> = {
  name: 'client_name',
  isPublic: 'public',
  firstParty: 'first_party',
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  grantTypes: 'grant_types',
  scopes: 'scope',
  audiences: 'audiences',
  signingAlg: 'signing_alg',
  accessTokenTtl: 'access_token_ttl',
  idTokenTtl: 'id_token_ttl',
  refreshTokenTtl: 'refresh_token_ttl',
  refreshTokenIdleTtl: 'refresh_token_idle_ttl',
};

/** Creates a client; returns the plaintext secret once (only its hash is stored). */
export async function createClient(
  services: Pick<Services, 'clients' | 'audit'>,
  input: NewClientInput,
): Promise<{ client: ClientRecord; secret: string | null }> {
  const parsed = newClientInput.safeParse(input);
  if (!parsed.success) {
    const label = (field: string, index: number | undefined) =>
      `${CLIENT_FIELD_NAMES[field] ?? field}${index === undefined ? '' : `[${index}]`}`;
    throw new AdminError(describeIssues(parsed.error.issues, input, label));
  }
  const c = parsed.data;
  const secret = c.isPublic ? null : generateClientSecret();
  const client = await services.clients.create({
    ...c,
    id: randomUUID(),
    secretHash: secret ? hashClientSecret(secret) : null,
    signingAlg: c.signingAlg as ClientRecord['signingAlg'],
  });
  await services.audit.record({
    type: 'client.created',
    clientId: client.id,
    details: { name: client.name },
  });
  return { client, secret };
}

export async function rotateClientSecret(
  services: Pick<Services, 'clients' | 'audit' | 'clock'>,
  clientId: string,
): Promise<string> {
  const client = await services.clients.findById(clientId);
  if (!client) throw new AdminError(`no client ${clientId}`);
  if (client.isPublic) throw new AdminError('public clients have no secret');
  const secret = generateClientSecret();
  await services.clients.setSecretHash(client.id, hashClientSecret(secret), services.clock.now());
  await services.audit.record({ type: 'client.secret_rotated', clientId: client.id });
  return secret;
}
