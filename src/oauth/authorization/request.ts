/**
 * Validation of an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1/§3.1.2.2).
 *
 * First the client and the redirect URI, which decide whether errors may be redirected at all
 * (RFC 6749 §4.1.2.1: never to an unverified URI); then everything else, whose failures go
 * back to the client with `state` and `iss`. Unknown parameters are ignored (RFC 6749 §3.1).
 */
import { z } from 'zod';
import type { KeyStore } from '../../keys/key-store';
import type { ClientRecord, ClientRepository } from '../../clients/client-storage';
import {
  InvalidRequest,
  InvalidScope,
  RequestNotSupported,
  RequestUriNotSupported,
  UnauthorizedClient,
  UnsupportedResponseType,
  type OAuthError,
} from '../errors';
import { describeIssue } from '../../shared/validation-messages';
import { AuthorizationPageError, AuthorizationRedirectError } from './errors';
import { verifyIdTokenHint, type IdTokenHint } from './id-token-hint';
import { checkChallenge } from './pkce';
import { matchesRegisteredRedirectUri } from './redirect-uri';
import { splitScope } from '../scope';

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';
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
}

export interface RequestValidationDeps {
  clients: Pick<ClientRepository, 'findById'>;
  keyStore: KeyStore;
  issuer: string;
  clockSkew: number;
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

export async function validateAuthorizationRequest(
  params: Record<string, string>,
  deps: RequestValidationDeps,
): Promise<AuthorizationRequest> {
  const { client, redirectUri } = await checkClientAndRedirect(params, deps.clients);
  const state =
    params.state !== undefined && params.state.length <= 1000 ? params.state : undefined;
  const fail = (error: OAuthError): never => {
    throw new AuthorizationRedirectError(redirectUri, state, error);
  };

  // OIDC Core §6: request objects are not supported; say so with the dedicated codes.
  if (params.request !== undefined)
    fail(new RequestNotSupported('Request objects (request) are not supported'));
  if (params.request_uri !== undefined)
    fail(new RequestUriNotSupported('request_uri is not supported'));

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

  // RFC 7636 §4.4.1 / RFC 9700 §2.1.1: PKCE is required for public clients, and enforced
  // for every client that sends a challenge.
  const pkceProblem = checkChallenge(p.code_challenge, p.code_challenge_method);
  if (pkceProblem) fail(new InvalidRequest(pkceProblem));
  if (client.isPublic && p.code_challenge === undefined)
    fail(new InvalidRequest('Public clients must use PKCE (code_challenge with S256)'));

  const prompt = new Set<Prompt>();
  for (const value of splitScope(p.prompt)) {
    if (!PROMPTS.includes(value as Prompt))
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
  };
}

/**
 * RFC 6749 §3.1.2.3 / OIDC Core §3.1.2.1: the redirect URI must equal a registered one,
 * character for character (RFC 9700 §2.1: exact string matching), except for the port of a
 * loopback IP literal (RFC 8252 §7.3, see ./redirect-uri.ts). It is always required, as OIDC
 * does and OAuth 2.1 recommends, so the token endpoint can always insist on the same value.
 */
async function checkClientAndRedirect(
  params: Record<string, string>,
  clients: Pick<ClientRepository, 'findById'>,
): Promise<{ client: ClientRecord; redirectUri: string }> {
  const clientId = params.client_id;
  if (!clientId)
    throw new AuthorizationPageError(
      'Unknown application',
      'The request does not say which application is asking you to sign in (client_id is missing).',
    );
  const client = await clients.findById(clientId);
  if (!client || client.disabled)
    throw new AuthorizationPageError(
      'Unknown application',
      'The application that sent you here is not registered with this server.',
    );
  const requested = params.redirect_uri;
  if (requested === undefined) {
    throw new AuthorizationPageError(
      'Invalid request',
      'The request does not say where to return you after signing in (redirect_uri is missing).',
    );
  }
  if (!matchesRegisteredRedirectUri(client.redirectUris, requested)) {
    throw new AuthorizationPageError(
      'Invalid request',
      'The address the application asked to return you to is not registered for it, so you were not sent there.',
    );
  }
  return { client, redirectUri: requested };
}
