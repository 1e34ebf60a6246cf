/**
 * Validation of an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1/§3.1.2.2).
 *
 * First the client and the redirect URI, which decide whether errors may be redirected at all
 * (RFC 6749 §4.1.2.1: never to an unverified URI); then everything else, whose failures go
 * back to the client with `state` and `iss`. Unknown parameters are ignored (RFC 6749 §3.1).
 * `resource` (RFC 8707 §2), the one parameter that may repeat, comes as its list of values.
 */
import { z } from 'zod';
import type { KeyStore } from '../../keys/key-store';
import type { ClientRecord, ClientRepository } from '../../clients/client-storage';
import {
  InvalidRequest,
  InvalidScope,
  RequestUriNotSupported,
  UnauthorizedClient,
  UnsupportedResponseType,
  OAuthError,
} from '../errors';
import { describeIssue } from '../../shared/validation-messages';
import { AuthorizationPageError, AuthorizationRedirectError } from './errors';
import { verifyIdTokenHint, type IdTokenHint } from './id-token-hint';
import { checkChallenge } from './pkce';
import { matchesRegisteredRedirectUri } from './redirect-uri';
import { splitScope } from '../scope';
import { requestedResources, resourceParam } from '../resources';

/** The authorization request parameters this server reads (and carries between the sign-in pages). */
export const AUTHORIZATION_PARAMETERS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'login_hint',
  'id_token_hint',
  // RFC 9449 §10: the key the code will be bound to.
  'dpop_jkt',
] as const;

/** `params` without anything but the authorization request parameters. */
export function authorizationParameters(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    AUTHORIZATION_PARAMETERS.filter((k) => params[k] !== undefined).map((k) => [k, params[k]!]),
  );
}

/** Where an authorization request's parameters came from. */
export interface RequestOrigin {
  /** Pushed to /par and brought back by request_uri (RFC 9126). */
  pushed: boolean;
  /** Taken from a verified request object (RFC 9101). */
  signed: boolean;
}

/** Sent as they are, in the URL or the form. */
export const DIRECT: RequestOrigin = Object.freeze({ pushed: false, signed: false });

export type Prompt = 'none' | 'login' | 'consent' | 'select_account' | 'create';
const PROMPTS: readonly Prompt[] = ['none', 'login', 'consent', 'select_account'];

export interface AuthorizationRequest {
  client: ClientRecord;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  nonce: string | undefined;
  codeChallenge: string | undefined;
  prompt: ReadonlySet<Prompt>;
  /** Seconds; the user must have authenticated at most this long ago (OIDC Core §3.1.2.1). */
  maxAge: number | undefined;
  loginHint: string | undefined;
  idTokenHint: IdTokenHint | undefined;
  /** RFC 9449 §10: the DPoP key thumbprint the code is bound to. */
  dpopJkt: string | undefined;
  /** The parameters as received, re-validated at every step of the sign-in. */
  params: Record<string, string>;
  /** Whether they were pushed (RFC 9126) or signed (RFC 9101); carried with them. */
  origin: RequestOrigin;
  /** RFC 8707: the resources requested, each registered for the client (empty: none named). */
  resources: string[];
}

export interface RequestValidationDeps {
  clients: Pick<ClientRepository, 'findById'>;
  keyStore: KeyStore;
  issuer: string;
  clockSkew: number;
  /** REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: every client must push its requests (RFC 9126 §5). */
  requirePushed: boolean;
  /** OIDC Initiating User Registration §4: prompt=create is accepted (SIGNUP=open). */
  promptCreate?: boolean;
}

const text = (max: number) => z.string().max(max).optional();

/** Lengths are bounded so a request (and the sealed page state) stays small. */
const paramsSchema = z.object({
  response_type: text(100),
  response_mode: text(50),
  scope: text(1000),
  state: text(1000),
  nonce: text(500),
  code_challenge: text(200),
  code_challenge_method: text(20),
  prompt: text(100),
  max_age: z
    .string()
    .regex(/^\d{1,9}$/, 'must be a non-negative integer')
    .optional(),
  login_hint: text(320),
  id_token_hint: text(8192),
  // RFC 9449 §10: an RFC 7638 SHA-256 thumbprint, base64url (43 characters).
  dpop_jkt: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url SHA-256 JWK thumbprint')
    .optional(),
});

/** `resource` holds every value of the repeatable `resource` parameter (RFC 8707 §2), if sent. */
export async function validateAuthorizationRequest(
  params: Record<string, string>,
  deps: RequestValidationDeps,
  origin: RequestOrigin = DIRECT,
  resource?: readonly string[],
): Promise<AuthorizationRequest> {
  const { client, redirectUri } = await checkClientAndRedirect(params, deps.clients);
  const state =
    params.state !== undefined && params.state.length <= 1000 ? params.state : undefined;
  const fail = (error: OAuthError): never => {
    throw new AuthorizationRedirectError(redirectUri, state, error);
  };

  // A request object was opened before validation (request-object.ts) unless it came with a
  // request_uri, or inside another one.
  if (params.request !== undefined)
    fail(new InvalidRequest('request cannot be combined with request_uri or nested'));
  // RFC 9101 §5.2 request_uri by reference to another URL is not supported; this server's own
  // (RFC 9126) were resolved before validation, and one inside pushed parameters is refused.
  if (params.request_uri !== undefined)
    fail(
      new RequestUriNotSupported(
        'request_uri is supported only as returned by the pushed_authorization_request_endpoint',
      ),
    );
  // RFC 9126 §5 and §6: the server, or this client's registration, requires pushed requests.
  if ((deps.requirePushed || client.requirePushedAuthorizationRequests) && !origin.pushed)
    fail(
      new InvalidRequest(
        'This client must push its authorization requests to the pushed_authorization_request_endpoint and send only client_id and the request_uri it returns',
      ),
    );
  // RFC 9101 §10.5: this client's registration requires signed request objects.
  if (client.requireSignedRequestObject && !origin.signed)
    fail(
      new InvalidRequest(
        'This client must send its authorization requests as a signed request object (request)',
      ),
    );

  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) fail(new InvalidRequest(describeIssue(parsed.error.issues[0]!, params)));
  const p = parsed.data!;

  if (p.response_type === undefined) fail(new InvalidRequest('response_type is required'));
  // RFC 9700 §2.1.2: only the code flow; implicit and hybrid response types are refused.
  if (p.response_type !== 'code')
    fail(new UnsupportedResponseType('Only response_type=code is supported'));
  if (!client.grantTypes.includes('authorization_code'))
    fail(new UnauthorizedClient('This client may not use the authorization code flow'));
  if (p.response_mode !== undefined && p.response_mode !== 'query')
    fail(new InvalidRequest('Only response_mode=query is supported'));

  const scopes = splitScope(p.scope);
  if (!scopes.length) fail(new InvalidScope('scope is required'));
  const unknown = scopes.filter((s) => !client.scopes.includes(s));
  if (unknown.length)
    fail(new InvalidScope(`Scope not allowed for this client: ${unknown.slice(0, 5).join(' ')}`));

  // RFC 8707 §2: absolute URIs without a fragment, registered for the client; else
  // invalid_target, redirected like every error once the redirect URI is trusted.
  const resourceBounds = resourceParam.safeParse(resource);
  if (!resourceBounds.success)
    fail(new InvalidRequest(describeIssue(resourceBounds.error.issues[0]!, { resource })));
  let resources: string[];
  try {
    resources = requestedResources(resource, client.audiences);
  } catch (err) {
    if (err instanceof OAuthError) throw new AuthorizationRedirectError(redirectUri, state, err);
    throw err;
  }

  // RFC 7636 §4.4.1 / RFC 9700 §2.1.1: PKCE is required for public clients, and enforced
  // for every client that sends a challenge.
  const pkceProblem = checkChallenge(p.code_challenge, p.code_challenge_method);
  if (pkceProblem) fail(new InvalidRequest(pkceProblem));
  if (client.isPublic && p.code_challenge === undefined)
    fail(new InvalidRequest('Public clients must use PKCE (code_challenge with S256)'));

  const prompt = new Set<Prompt>();
  for (const value of splitScope(p.prompt)) {
    if (!PROMPTS.includes(value as Prompt) && !(value === 'create' && deps.promptCreate))
      fail(new InvalidRequest(`Unsupported prompt value: ${value.slice(0, 40)}`));
    prompt.add(value as Prompt);
  }
  // OIDC Core §3.1.2.1: none must not be combined with any other value.
  if (prompt.has('none') && prompt.size > 1)
    fail(new InvalidRequest('prompt=none cannot be combined with other values'));

  let idTokenHint: IdTokenHint | undefined;
  if (p.id_token_hint !== undefined) {
    idTokenHint =
      (await verifyIdTokenHint(deps.keyStore, p.id_token_hint, deps.issuer, deps.clockSkew)) ??
      undefined;
    if (!idTokenHint)
      fail(new InvalidRequest('id_token_hint is not a valid ID token issued by this server'));
  }

  return {
    client,
    redirectUri,
    state,
    scopes,
    nonce: p.nonce,
    codeChallenge: p.code_challenge,
    prompt,
    maxAge: p.max_age === undefined ? undefined : Number(p.max_age),
    loginHint: p.login_hint,
    idTokenHint,
    dpopJkt: p.dpop_jkt,
    params,
    origin,
    resources,
  };
}

/**
 * RFC 6749 §3.1.2.3 / OIDC Core §3.1.2.1: the redirect URI must equal a registered one,
 * character for character (RFC 9700 §2.1: exact string matching), except for the port of a
 * loopback IP literal (RFC 8252 §7.3, see ./redirect-uri.ts). It is always required, as OIDC
 * does and OAuth 2.1 recommends, so the token endpoint can always insist on the same value.
 */
export async function checkClientAndRedirect(
  params: Record<string, string>,
  clients: Pick<ClientRepository, 'findById'>,
): Promise<{ client: ClientRecord; redirectUri: string }> {
  const clientId = params.client_id;
  if (!clientId)
    throw new AuthorizationPageError(
      'Unknown application',
      'The request does not say which application is asking you to sign in (client_id is missing).',
      400,
      'client_id is required',
    );
  const client = await clients.findById(clientId);
  if (!client || client.disabled)
    throw new AuthorizationPageError(
      'Unknown application',
      'The application that sent you here is not registered with this server.',
      400,
      'client_id is not a registered client',
    );
  const requested = params.redirect_uri;
  if (requested === undefined) {
    throw new AuthorizationPageError(
      'Invalid request',
      'The request does not say where to return you after signing in (redirect_uri is missing).',
      400,
      'redirect_uri is required',
    );
  }
  if (!matchesRegisteredRedirectUri(client.redirectUris, requested)) {
    throw new AuthorizationPageError(
      'Invalid request',
      'The address the application asked to return you to is not registered for it, so you were not sent there.',
      400,
      'redirect_uri is not registered for this client',
    );
  }
  return { client, redirectUri: requested };
}
