/** Client administration shared by the CLI and the demo seed. */
import { randomUUID } from 'node:crypto';
import {
  clientMetadataSchema,
  DEFAULT_CLIENT_SCOPES,
  RESPONSE_ONLY_FIELDS,
  settingsFromMetadata,
  type ClientMetadata,
  type ClientMetadataInput,
  type ClientSettings,
} from '../clients/client-metadata';
import {
  generateClientSecret,
  hashClientSecret,
  sealClientSecret,
} from '../oauth/client-auth/secrets';
import type { ClientRecord, GrantType, TokenEndpointAuthMethod } from '../clients/client-storage';
import type { Services } from '../services';
import { describeIssues } from './issues';
import { AdminError } from './users';

/**
 * A client as the seed, the bench and the tests describe it (camelCase, Tessera's historical
 * defaults: the code and refresh grants, the OpenID scopes). It is turned into a client-metadata
 * document and validated by the one schema (clients/client-metadata.ts). Without
 * `tokenEndpointAuthMethod` a confidential client accepts either secret method.
 */
export interface NewClientInput {
  name: string;
  isPublic?: boolean;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  firstParty?: boolean;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: GrantType[];
  scopes?: string[];
  audiences?: string[];
  signingAlg?: string | null;
  accessTokenTtl?: number | null;
  idTokenTtl?: number | null;
  refreshTokenTtl?: number | null;
  refreshTokenIdleTtl?: number | null;
  /** RFC 9449 §5.2: token requests only with a DPoP proof. */
  dpopBoundAccessTokens?: boolean;
  /** RFC 8693: the token-exchange policy, as the metadata document's `token_exchange`. */
  tokenExchange?: ClientMetadataInput['token_exchange'];
  /** Back-Channel Logout 1.0 §2.2. */
  backchannelLogoutUri?: string | null;
  backchannelLogoutSessionRequired?: boolean;
}

/** The metadata document `input` describes. */
export function metadataFromInput(input: NewClientInput): ClientMetadataInput {
  const method = input.isPublic ? 'none' : (input.tokenEndpointAuthMethod ?? 'client_secret_basic');
  const optional = <T>(name: string, value: T | null | undefined) =>
    value === null || value === undefined ? {} : { [name]: value };
  return {
    client_name: input.name,
    token_endpoint_auth_method: method,
    first_party: input.firstParty ?? false,
    redirect_uris: input.redirectUris ?? [],
    post_logout_redirect_uris: input.postLogoutRedirectUris ?? [],
    grant_types: input.grantTypes ?? ['authorization_code', 'refresh_token'],
    scope: (input.scopes ?? DEFAULT_CLIENT_SCOPES).join(' '),
    audiences: input.audiences ?? [],
    ...optional('id_token_signed_response_alg', input.signingAlg),
    ...optional('access_token_ttl', input.accessTokenTtl),
    ...optional('id_token_ttl', input.idTokenTtl),
    ...optional('refresh_token_ttl', input.refreshTokenTtl),
    ...optional('refresh_token_idle_ttl', input.refreshTokenIdleTtl),
    ...optional('dpop_bound_access_tokens', input.dpopBoundAccessTokens),
    ...optional('token_exchange', input.tokenExchange),
    ...optional('backchannel_logout_uri', input.backchannelLogoutUri),
    ...optional('backchannel_logout_session_required', input.backchannelLogoutSessionRequired),
  };
}

/** A metadata field as a document names it: `redirect_uris[1]`. */
export const metadataFieldLabel = (field: string, index: number | undefined): string =>
  `${field}${index === undefined ? '' : `[${index}]`}`;

/** Parses a metadata document; AdminError naming each bad field as the document does. */
export function parseClientMetadata(document: unknown): ClientMetadata {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new AdminError('the client metadata must be a JSON object');
  const parsed = clientMetadataSchema.safeParse(document);
  if (!parsed.success) {
    throw new AdminError(
      describeIssues(parsed.error.issues, document as Record<string, unknown>, metadataFieldLabel),
    );
  }
  return parsed.data;
}

/** What registering a client needs: its repository, the audit log, the KEKs, the config. */
type RegistrationServices = Pick<Services, 'clients' | 'audit' | 'keks' | 'config'>;

/** Creates a client; returns the plaintext secret once (only its hash is stored). */
export async function createClient(
  services: RegistrationServices,
  input: NewClientInput,
): Promise<{ client: ClientRecord; secret: string | null }> {
  const settings = settingsFromMetadata(parseClientMetadata(metadataFromInput(input)));
  return register(services, {
    ...settings,
    tokenEndpointAuthMethod: input.isPublic ? 'none' : (input.tokenEndpointAuthMethod ?? null),
  });
}

/**
 * Registers the client an RFC 7591 metadata document describes; returns the plaintext secret
 * once (only its hash is stored, and for client_secret_jwt its ciphertext). The registered
 * authentication method is the only one the client may use (client_secret_basic when the
 * document names none, as RFC 7591 §2 says); a private_key_jwt client gets no secret.
 */
export async function createClientFromMetadata(
  services: RegistrationServices,
  document: unknown,
  options: RegisterOptions = {},
): Promise<{ client: ClientRecord; secret: string | null }> {
  return register(services, settingsFromMetadata(parseClientMetadata(document)), options);
}

export interface RegisterOptions {
  /** A dynamically registered client's registration access token, hashed (RFC 7592). */
  registrationTokenHash?: string;
  /** How it registered (oauth/registration/dynamic-registration.ts Registrant). */
  registrant?: unknown;
}

async function register(
  services: RegistrationServices,
  settings: ClientSettings,
  options: RegisterOptions = {},
): Promise<{ client: ClientRecord; secret: string | null }> {
  checkOutboundPolicy(services, settings);
  const secret = hasSecret(settings) ? generateClientSecret() : null;
  const id = randomUUID();
  const client = await services.clients.create({
    ...settings,
    ...options,
    id,
    ...(secret ? secretColumns(services, id, settings, secret) : { secretHash: null }),
  });
  await services.audit.record({
    type: 'client.created',
    clientId: client.id,
    details: { name: client.name },
  });
  return { client, secret };
}

/**
 * Replaces a client's registration with the one `document` describes (RFC 7592 §2.2: omitted
 * fields take their defaults). The read-only fields of a registration response may be sent
 * back unchanged; a `client_id` must be this client's. A public client made confidential gets
 * a secret, returned once; a confidential one made public loses its secret. This process sees
 * the change at once; other instances within their client cache's lifetime (5 s).
 */
export async function updateClient(
  services: RegistrationServices &
    Pick<Services, 'clock'> &
    Partial<Pick<Services, 'clientLookup' | 'clientKeys'>>,
  clientId: string,
  document: unknown,
): Promise<{ client: ClientRecord; secret: string | null }> {
  const current = await services.clients.findById(clientId);
  if (!current) throw new AdminError(`no client ${clientId}`);
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new AdminError('the client metadata must be a JSON object');
  const fields = { ...(document as Record<string, unknown>) };
  if ('client_secret' in fields)
    throw new AdminError('client_secret cannot be set: rotate it with `clients rotate-secret`');
  if (fields.client_id !== undefined && fields.client_id !== clientId)
    throw new AdminError(`client_id ${JSON.stringify(fields.client_id)} is not ${clientId}`);
  for (const name of RESPONSE_ONLY_FIELDS) delete fields[name];
  const settings = settingsFromMetadata(parseClientMetadata(fields));
  checkOutboundPolicy(services, settings);
  // A client that now needs a secret it lacks (one only hashed cannot key client_secret_jwt)
  // gets a new one; one that needs none loses it; otherwise the secret is kept as it is.
  const method = settings.tokenEndpointAuthMethod;
  const lacksSecret =
    !hasSecret(current) || (method === 'client_secret_jwt' && !current.secretCiphertext);
  const secret = hasSecret(settings) && lacksSecret ? generateClientSecret() : null;
  const columns = secret
    ? secretColumns(services, clientId, settings, secret)
    : !hasSecret(settings)
      ? { secretHash: null, secretCiphertext: null }
      : method === 'client_secret_jwt'
        ? {}
        : { secretCiphertext: null };
  const client = await services.clients.update(
    clientId,
    { ...settings, ...columns },
    services.clock.now(),
  );
  if (!client) throw new AdminError(`no client ${clientId}`);
  services.clientLookup?.invalidate(clientId);
  services.clientKeys?.invalidate(clientId);
  await services.audit.record({
    type: 'client.updated',
    clientId,
    details: { name: client.name },
  });
  return { client, secret };
}

export async function rotateClientSecret(
  services: Pick<Services, 'clients' | 'audit' | 'clock' | 'keks'>,
  clientId: string,
): Promise<string> {
  const client = await services.clients.findById(clientId);
  if (!client) throw new AdminError(`no client ${clientId}`);
  if (client.isPublic) throw new AdminError('public clients have no secret');
  if (!hasSecret(client))
    throw new AdminError('a private_key_jwt client has no secret: it authenticates with its keys');
  const secret = generateClientSecret();
  const { secretHash, secretCiphertext } = secretColumns(services, client.id, client, secret);
  await services.clients.setSecretHash(
    client.id,
    secretHash,
    services.clock.now(),
    secretCiphertext,
  );
  await services.audit.record({ type: 'client.secret_rotated', clientId: client.id });
  return secret;
}

/** Whether a client with these settings authenticates with a secret (not public, no keys). */
function hasSecret(c: Pick<ClientSettings, 'isPublic' | 'tokenEndpointAuthMethod'>): boolean {
  return !c.isPublic && c.tokenEndpointAuthMethod !== 'private_key_jwt';
}

/**
 * The stored form of a new secret: its hash, and for client_secret_jwt (which must key an
 * HMAC with it, OIDC Core §9) its envelope-encrypted ciphertext too; null for other methods.
 */
function secretColumns(
  services: Pick<Services, 'keks'>,
  clientId: string,
  settings: Pick<ClientSettings, 'tokenEndpointAuthMethod'>,
  secret: string,
): { secretHash: string; secretCiphertext: string | null } {
  return {
    secretHash: hashClientSecret(secret),
    secretCiphertext:
      settings.tokenEndpointAuthMethod === 'client_secret_jwt'
        ? sealClientSecret(services.keks, clientId, secret)
        : null,
  };
}

/**
 * A plain-http jwks_uri or backchannel_logout_uri is for development: requested only with
 * OUTBOUND_ALLOW_PRIVATE.
 */
function checkOutboundPolicy(
  services: Pick<Services, 'config'>,
  settings: Pick<ClientSettings, 'jwksUri' | 'backchannelLogoutUri'>,
): void {
  const urls = {
    jwks_uri: settings.jwksUri,
    backchannel_logout_uri: settings.backchannelLogoutUri,
  };
  for (const [field, url] of Object.entries(urls))
    if (url?.startsWith('http:') && !services.config.OUTBOUND_ALLOW_PRIVATE)
      throw new AdminError(
        `${field} ${url}: plain http is allowed only with OUTBOUND_ALLOW_PRIVATE=true (development); use https`,
      );
}

/**
 * Disables or enables a client. A disabled client cannot authenticate, sign anyone in, or have
 * its tokens introspected as active; enabling it again revives nothing that was refused meanwhile.
 */
export async function setClientDisabled(
  services: Pick<Services, 'clients' | 'audit'> & Partial<Pick<Services, 'clientLookup'>>,
  clientId: string,
  disabled: boolean,
): Promise<void> {
  if (!(await services.clients.findById(clientId))) throw new AdminError(`no client ${clientId}`);
  await services.clients.setDisabled(clientId, disabled);
  services.clientLookup?.invalidate(clientId);
  await services.audit.record({
    type: disabled ? 'client.disabled' : 'client.enabled',
    clientId,
  });
}

/** Deletes a client and everything issued to it (families, codes, consents, pushed requests). */
export async function deleteClient(
  services: Pick<Services, 'clients' | 'audit'> &
    Partial<Pick<Services, 'clientLookup' | 'clientKeys'>>,
  clientId: string,
  by: string,
): Promise<void> {
  if (!(await services.clients.delete(clientId))) throw new AdminError(`no client ${clientId}`);
  services.clientLookup?.invalidate(clientId);
  services.clientKeys?.invalidate(clientId);
  await services.audit.record({ type: 'client.deleted', clientId, details: { by } });
}
