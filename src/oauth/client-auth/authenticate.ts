/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).
 *
 * Supported methods, exactly one per request (RFC 6749 §2.3: "The client MUST NOT use more
 * than one authentication method in each request"):
 * - client_secret_basic: `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`
 *   (RFC 6749 §2.3.1 — id and secret are form-urlencoded before base64);
 * - client_secret_post: `client_id` and `client_secret` in the body;
 * - none: a public client sends only `client_id` (RFC 6749 §2.1, §3.2.1);
 * - private_key_jwt and client_secret_jwt: `client_assertion_type` and `client_assertion` in
 *   the body (RFC 7523 §2.2, OIDC Core §9; checked in client-assertion.ts).
 *
 * Every failure to authenticate is 401 invalid_client (RFC 6749 §5.2). A secret that fails
 * gets one generic description, so the answer does not tell an unknown client from a wrong
 * secret (an assertion that fails says which of its checks did, client-assertion.ts); when Basic
 * was tried the response carries `WWW-Authenticate: Basic`. Secrets are compared in constant
 * time, and an unknown client still costs one keyed-hash comparison.
 */
import { InvalidClient, InvalidRequest } from '../errors';
import type { ClientRecord, TokenEndpointAuthMethod } from '../../clients/client-storage';
import type { ClientLookup } from './client-cache';
import { authenticateByAssertion, type ClientAssertionDeps } from './client-assertion';
import { hashClientSecret, verifyClientSecret } from './secrets';

export interface ClientAuthInput {
  /** The raw Authorization header, if any. */
  authorization?: string | undefined;
  /** The request parameters (form or JSON body). */
  params: Readonly<Record<string, string>>;
  /** The URL of the endpoint called, which an assertion may name as its `aud`. */
  endpointUrl?: string;
}

export interface ClientAuthDeps {
  clients: ClientLookup;
  /** Realm named in `WWW-Authenticate: Basic`. */
  realm?: string;
  /** What assertions are checked against; without it they are refused. */
  assertions?: ClientAssertionDeps;
}

export interface AuthenticatedClient {
  client: ClientRecord;
  method: TokenEndpointAuthMethod;
}

const MAX_ID_LENGTH = 200;
const MAX_SECRET_LENGTH = 512;

/** A hash nobody's secret matches, to spend the same work on unknown clients. */
const DUMMY_HASH = hashClientSecret('tessera-no-such-client');

/** Authenticates the client of a request; throws InvalidClient/InvalidRequest otherwise. */
export async function authenticateClient(
  input: ClientAuthInput,
  deps: ClientAuthDeps,
): Promise<ClientRecord> {
  return (await authenticateClientWithMethod(input, deps)).client;
}

export async function authenticateClientWithMethod(
  input: ClientAuthInput,
  deps: ClientAuthDeps,
): Promise<AuthenticatedClient> {
  const realm = deps.realm ?? 'tessera';
  const { client_id: bodyId, client_secret: bodySecret } = input.params;
  const { client_assertion: assertion, client_assertion_type: assertionType } = input.params;

  if (assertion !== undefined || assertionType !== undefined) {
    if (input.authorization || bodySecret !== undefined)
      throw new InvalidRequest(
        'Use exactly one client authentication method (client_assertion, not also a Basic header or client_secret)',
      );
    if (!deps.assertions)
      throw new InvalidClient(
        'Client authentication failed: client_assertion is not accepted here',
      );
    return authenticateByAssertion(
      {
        clientAssertion: assertion,
        clientAssertionType: assertionType,
        clientId: bodyId,
        endpointUrl: input.endpointUrl ?? deps.assertions.tokenEndpoint,
      },
      deps.clients,
      deps.assertions,
    );
  }

  const basic = parseBasic(input.authorization, realm);

  if (basic) {
    if (bodySecret !== undefined)
      throw new InvalidRequest(
        'Use exactly one client authentication method (Basic header or client_secret in the body, not both)',
      );
    if (bodyId !== undefined && bodyId !== basic.id)
      throw new InvalidRequest('client_id in the body does not match the Authorization header');
    const failure = () =>
      new InvalidClient('Client authentication failed', {
        headers: { 'WWW-Authenticate': `Basic realm="${realm}"` },
      });
    const client = await confidentialClient(basic.id, basic.secret, deps);
    if (!client) throw failure();
    return registeredMethod(client, 'client_secret_basic', realm);
  }

  if (bodyId === undefined || bodyId === '')
    throw new InvalidClient('Client authentication failed: no client credentials were sent');
  if (bodySecret !== undefined) {
    const client = await confidentialClient(bodyId, bodySecret, deps);
    if (!client) throw new InvalidClient('Client authentication failed');
    return registeredMethod(client, 'client_secret_post', realm);
  }

  // `none`: only public clients may identify themselves without a secret (RFC 6749 §2.1).
  const client = bodyId.length <= MAX_ID_LENGTH ? await deps.clients.findById(bodyId) : null;
  if (!client || client.disabled || !client.isPublic)
    throw new InvalidClient('Client authentication failed');
  return { client, method: 'none' };
}

/**
 * The client authenticated with `method`, if that is the method it registered (RFC 7591 §2,
 * OpenID Connect Core §9); a client registered before methods were recorded may use either
 * secret method. Said only after the secret was checked, so it tells nothing to a guesser.
 */
function registeredMethod(
  client: ClientRecord,
  method: TokenEndpointAuthMethod,
  realm: string,
): AuthenticatedClient {
  const registered = client.tokenEndpointAuthMethod;
  if (registered && registered !== method)
    throw new InvalidClient(
      `Client authentication failed: this client is registered for ${registered}, not ${method}`,
      method === 'client_secret_basic'
        ? { headers: { 'WWW-Authenticate': `Basic realm="${realm}"` } }
        : undefined,
    );
  return { client, method };
}

async function confidentialClient(
  id: string,
  secret: string,
  deps: ClientAuthDeps,
): Promise<ClientRecord | null> {
  if (id.length === 0 || id.length > MAX_ID_LENGTH || secret.length > MAX_SECRET_LENGTH) {
    verifyClientSecret(DUMMY_HASH, secret.slice(0, MAX_SECRET_LENGTH));
    return null;
  }
  const client = await deps.clients.findById(id);
  // Same work whether or not the client exists (constant-time check against a dummy hash).
  const ok = verifyClientSecret(client?.secretHash ?? DUMMY_HASH, secret);
  if (!client || !ok || client.disabled || client.isPublic || !client.secretHash) return null;
  return client;
}

/** Parses `Authorization: Basic …`; null when no Authorization header was sent. */
function parseBasic(
  header: string | undefined,
  realm: string,
): { id: string; secret: string } | null {
  if (header === undefined || header === '') return null;
  const challenge = { headers: { 'WWW-Authenticate': `Basic realm="${realm}"` } };
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
  if (!match) {
    if (/^Basic\b/i.test(header)) throw new InvalidClient('Malformed Basic credentials', challenge);
    throw new InvalidClient(
      'Unsupported Authorization scheme for client authentication; use Basic',
      challenge,
    );
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClient('Malformed Basic credentials', challenge);
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (id === null || secret === null)
    throw new InvalidClient('Malformed Basic credentials', challenge);
  return { id, secret };
}

/** application/x-www-form-urlencoded decoding of one value ('+' is a space); null if invalid. */
function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}
