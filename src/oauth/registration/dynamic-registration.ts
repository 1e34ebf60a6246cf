/**
 * Dynamic client registration (RFC 7591) and its management protocol (RFC 7592): a client
 * registers itself with the same metadata document `tessera clients create --metadata` takes,
 * validated by the same schema, and gets a registration access token with which it may read,
 * replace and delete that registration at its registration_client_uri.
 *
 * What a registrant may ask for is narrower than what an operator may set:
 * - Tessera's own fields (`first_party`, `audiences`, the token lifetimes, the token-exchange
 *   policy) are the operator's: a registrant that could set them could skip consent, use the
 *   password grant, name any API as its audience or exchange other clients' tokens;
 * - REGISTRATION=open registers public clients only (token_endpoint_auth_method none) with the
 *   authorization code flow, and only loopback or private-use-scheme redirect URIs (RFC 8252):
 *   an anonymous https redirect URI would let anyone dress up a phishing site as an app;
 * - with an initial access token, the token's policy bounds grant types, scopes and redirect
 *   URI prefixes, and may let registrations name some APIs as their `audiences`.
 * Errors are RFC 7591 §3.2.2's: invalid_redirect_uri for a redirect URI, invalid_client_metadata
 * for anything else, naming the field as the document does.
 */
import type { z } from 'zod';
import {
  createClientFromMetadata,
  deleteClient,
  metadataFieldLabel,
  updateClient,
} from '../../admin/clients';
import { describeIssues } from '../../admin/issues';
import { AdminError } from '../../admin/users';
import {
  clientMetadataSchema,
  metadataOfClient,
  RESPONSE_ONLY_FIELDS,
  type ClientMetadata,
} from '../../clients/client-metadata';
import type { ClientRecord } from '../../clients/client-storage';
import type { Services } from '../../services';
import { constantTimeEqual } from '../../shared/crypto';
import { hashOpaqueToken, newOpaqueToken } from '../../tokens/opaque';
import { verifyClientSecret } from '../client-auth/secrets';
import { InvalidClientMetadata, InvalidRedirectUri, InvalidToken, OAuthError } from '../errors';
import { splitScope } from '../scope';
import type { RegistrationPolicy } from './registration-token-storage';

export const REGISTRATION_PATH = '/register';

/** How a registration request was allowed in. */
export type Registrant = { mode: 'open' } | { mode: 'initial-token'; policy: RegistrationPolicy };

/** Fields only an operator sets (Tessera's own, see the file comment). */
const OPERATOR_FIELDS = [
  'first_party',
  'audiences',
  'access_token_ttl',
  'id_token_ttl',
  'refresh_token_ttl',
  'refresh_token_idle_ttl',
  'token_exchange',
] as const;

const REDIRECT_FIELDS = new Set(['redirect_uris', 'post_logout_redirect_uris']);

export type RegistrationServices = Pick<
  Services,
  'clients' | 'audit' | 'keks' | 'config' | 'clock' | 'clientLookup' | 'clientKeys'
>;

/** RFC 7591 §3.2.1 / RFC 7592 §3: the registration as returned to the client. */
export type RegistrationResponse = ReturnType<typeof metadataOfClient> & {
  client_secret?: string;
  client_secret_expires_at?: number;
  registration_access_token?: string;
  registration_client_uri: string;
};

/** POST /register: validates `document` for `registrant`, registers it, answers once with its secrets. */
export async function registerClient(
  services: RegistrationServices,
  document: Record<string, unknown>,
  registrant: Registrant,
): Promise<RegistrationResponse> {
  for (const name of ['client_id', 'client_secret', 'registration_access_token'])
    if (name in document)
      throw new InvalidClientMetadata(`${name} is assigned by the server, not sent`);
  checkRegistrant(document, registrant);
  const token = newOpaqueToken();
  const { client, secret } = await asClientMetadataError(() =>
    createClientFromMetadata(services, document, {
      registrationTokenHash: token.hash,
      registrant,
    }),
  );
  await services.audit.record({
    type: 'client.registered',
    clientId: client.id,
    details: { mode: registrant.mode },
  });
  return {
    ...response(services, client, secret),
    registration_access_token: token.value,
  };
}

/** GET /register/{client_id} (RFC 7592 §2.1). */
export async function readRegistration(
  services: RegistrationServices,
  clientId: string,
  accessToken: string | undefined,
): Promise<RegistrationResponse> {
  const client = await registeredClient(services, clientId, accessToken);
  return response(services, client, null);
}

/**
 * PUT /register/{client_id} (RFC 7592 §2.2): the whole registration replaced, under the rules
 * it was first registered under; `client_id` must be sent and match, a
 * `client_secret`, if sent, must be the current one.
 */
export async function updateRegistration(
  services: RegistrationServices,
  clientId: string,
  accessToken: string | undefined,
  document: Record<string, unknown>,
): Promise<RegistrationResponse> {
  const current = await registeredClient(services, clientId, accessToken);
  // The rules it registered under (open, or its initial access token's policy) still hold.
  const registrant = storedRegistrant(current);
  if (document.client_id !== clientId)
    throw new InvalidClientMetadata('client_id must be sent, and be this client’s');
  const fields = { ...document };
  if ('client_secret' in fields) {
    const sent = fields.client_secret;
    if (
      typeof sent !== 'string' ||
      !current.secretHash ||
      !verifyClientSecret(current.secretHash, sent)
    )
      throw new InvalidClientMetadata('client_secret is not this client’s current secret');
    delete fields.client_secret;
  }
  delete fields.registration_access_token;
  delete fields.registration_client_uri;
  for (const name of RESPONSE_ONLY_FIELDS) delete fields[name];
  checkRegistrant(fields, registrant);
  const { client, secret } = await asClientMetadataError(() =>
    updateClient(services, clientId, fields),
  );
  return response(services, client, secret);
}

/** DELETE /register/{client_id} (RFC 7592 §2.3): the client and everything issued to it go. */
export async function deleteRegistration(
  services: RegistrationServices,
  clientId: string,
  accessToken: string | undefined,
): Promise<void> {
  await registeredClient(services, clientId, accessToken);
  await deleteClient(services, clientId, 'registration');
}

/**
 * The client whose registration access token was presented (RFC 7592 §2: otherwise 401 with a
 * Bearer challenge, RFC 6750 §3.1). An unknown client and a wrong token get the same answer,
 * and the token is compared in constant time.
 */
async function registeredClient(
  services: RegistrationServices,
  clientId: string,
  accessToken: string | undefined,
): Promise<ClientRecord> {
  const refuse = () =>
    new InvalidToken('The registration access token is missing, invalid or not for this client', {
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    });
  if (!accessToken) throw refuse();
  const client = clientId.length <= 200 ? await services.clients.findById(clientId) : null;
  const presented = hashOpaqueToken(accessToken);
  const ok = constantTimeEqual(presented, client?.registrationTokenHash ?? hashOpaqueToken(''));
  if (!client || !client.registrationTokenHash || !ok) throw refuse();
  return client;
}

/** The registrant a client was stored with; one that cannot be read gets the strictest rules. */
function storedRegistrant(client: ClientRecord): Registrant {
  const stored = client.registrant as Partial<{ mode: string; policy: RegistrationPolicy }> | null;
  if (stored?.mode === 'initial-token' && stored.policy && typeof stored.policy === 'object')
    return { mode: 'initial-token', policy: stored.policy };
  return { mode: 'open' };
}

function response(
  services: RegistrationServices,
  client: ClientRecord,
  secret: string | null,
): RegistrationResponse {
  return {
    ...metadataOfClient(client),
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    registration_client_uri: `${services.config.issuer}${REGISTRATION_PATH}/${encodeURIComponent(client.id)}`,
  };
}

/** What this registrant may not register, refused before anything is stored. */
function checkRegistrant(document: Record<string, unknown>, registrant: Registrant): void {
  if ('software_statement' in document)
    throw new OAuthError(
      'invalid_software_statement',
      400,
      'software_statement is not supported by this server',
    );
  // An initial access token may let its registrations name some of the APIs (RFC 8707
  // resources) the operator lists in its policy.
  const mayListAudiences = registrant.mode === 'initial-token' && !!registrant.policy.audiences;
  for (const name of OPERATOR_FIELDS)
    if (name in document && !(name === 'audiences' && mayListAudiences))
      throw new InvalidClientMetadata(
        `${name} is set by the operator, not by dynamic registration`,
      );
  const metadata = parse(document);
  if (registrant.mode === 'open') checkOpen(metadata);
  else checkPolicy(metadata, registrant.policy);
}

function parse(document: Record<string, unknown>): ClientMetadata {
  const parsed = clientMetadataSchema.safeParse(document);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const describe = (some: readonly z.core.$ZodIssue[]) =>
    describeIssues(some, document, metadataFieldLabel);
  const redirects = issues.filter((i) => REDIRECT_FIELDS.has(String(i.path[0])));
  if (redirects.length) throw new InvalidRedirectUri(describe(redirects));
  throw new InvalidClientMetadata(describe(issues));
}

/** REGISTRATION=open: public code-flow clients on loopback or private-use redirect URIs. */
function checkOpen(m: ClientMetadata): void {
  if (m.token_endpoint_auth_method !== 'none')
    throw new InvalidClientMetadata(
      'token_endpoint_auth_method must be none: open registration is for public clients only',
    );
  const extra = m.grant_types.filter((g) => g !== 'authorization_code' && g !== 'refresh_token');
  if (extra.length)
    throw new InvalidClientMetadata(
      `grant_types ${extra.join(', ')} cannot be registered openly (authorization_code and refresh_token only)`,
    );
  for (const uri of [...m.redirect_uris, ...m.post_logout_redirect_uris])
    if (!isNativeAppUri(uri))
      throw new InvalidRedirectUri(
        `${uri.slice(0, 120)}: open registration accepts loopback (http://127.0.0.1, http://[::1], http://localhost) and private-use scheme redirect URIs only (RFC 8252)`,
      );
}

/** http on a loopback host, or a private-use scheme (redirectUriSchema has checked the rest). */
function isNativeAppUri(uri: string): boolean {
  const scheme = uri.slice(0, uri.indexOf(':')).toLowerCase();
  return scheme === 'http' || (scheme !== 'https' && scheme.includes('.'));
}

/** An initial access token's policy (RegistrationPolicy). */
function checkPolicy(m: ClientMetadata, policy: RegistrationPolicy): void {
  if (policy.grant_types) {
    const refused = m.grant_types.filter((g) => !policy.grant_types!.includes(g));
    if (refused.length)
      throw new InvalidClientMetadata(
        `grant_types ${refused.join(', ')} are not allowed by this initial access token`,
      );
  }
  if (policy.scopes && m.scope !== undefined) {
    const refused = splitScope(m.scope).filter((s) => !policy.scopes!.includes(s));
    if (refused.length)
      throw new InvalidClientMetadata(
        `scope ${refused.join(' ')} is not allowed by this initial access token`,
      );
  }
  const audiences = m.audiences.filter((a) => !policy.audiences?.includes(a));
  if (audiences.length)
    throw new InvalidClientMetadata(
      `audiences ${audiences.join(', ')} are not allowed by this initial access token`,
    );
  const prefixes = policy.redirect_uri_prefixes;
  if (prefixes)
    for (const uri of [...m.redirect_uris, ...m.post_logout_redirect_uris])
      if (!prefixes.some((p) => uri.startsWith(p)))
        throw new InvalidRedirectUri(
          `${uri.slice(0, 120)} does not start with a prefix this initial access token allows`,
        );
}

/** The admin module's refusals (e.g. a plain-http jwks_uri) are the registrant's metadata errors. */
async function asClientMetadataError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AdminError) throw new InvalidClientMetadata(err.message);
    throw err;
  }
}

/** Discovery's registration_endpoint (RFC 8414 §2), when REGISTRATION allows registering. */
export function registrationMetadata(config: Pick<Services['config'], 'issuer' | 'REGISTRATION'>) {
  return config.REGISTRATION === 'off'
    ? {}
    : { set: { registration_endpoint: `${config.issuer}${REGISTRATION_PATH}` } };
}
