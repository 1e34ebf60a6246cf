/**
 * Pushed authorization requests (RFC 9126). A client pushes its authorization request to /par,
 * authenticated like at the token endpoint; the server validates it, stores it and answers
 * with a `request_uri` (`urn:ietf:params:oauth:request_uri:` and 256 random bits, §2.2) that the
 * browser then brings to /authorize with the client_id alone (§4). The request_uri is single
 * use and expires after PAR_REQUEST_URI_TTL seconds; only a hash of it is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock';
import type { ClientRecord, ClientRepository } from '../../clients/client-storage';
import { InvalidDpopProof, InvalidRequest, InvalidRequestObject } from '../errors';
import { matchesRegisteredRedirectUri } from './redirect-uri';
import {
  openRequestObject,
  type OpenedRequestObject,
  type RequestObjectDeps,
} from './request-object';
import { AuthorizationPageError, AuthorizationRedirectError } from './errors';
import {
  authorizationParameters,
  checkClientAndRedirect,
  DIRECT,
  type AuthorizationRequest,
  type RequestOrigin,
} from './request';
import type { PushedRequestRepository } from './pushed-request-storage';

export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

const hashOf = (requestUri: string) => createHash('sha256').update(requestUri).digest('base64url');

/** A new request_uri and the hash it is stored under. */
export function newRequestUri(): { requestUri: string; hash: string } {
  const requestUri = `${REQUEST_URI_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { requestUri, hash: hashOf(requestUri) };
}

/** An authorization request's parameters, where they came from, and its resources (RFC 8707). */
export interface ResolvedRequest {
  params: Record<string, string>;
  origin: RequestOrigin;
  resource: readonly string[] | undefined;
}

export interface ResolveDeps {
  pushedRequests: PushedRequestRepository;
  clock: Clock;
  clients: Pick<ClientRepository, 'findById'>;
  requestObjects: RequestObjectDeps;
}

const expired = () =>
  new AuthorizationPageError(
    'This sign-in link has expired',
    'The application prepared this sign-in for a short time and for one use only. Go back to the application and start again.',
  );

/**
 * The parameters an authorization request stands for. With a request_uri this server issued,
 * the pushed parameters and nothing else (RFC 9126 §4: the ones in the URL are ignored), used up
 * here; otherwise the parameters as sent (a request_uri of any other form is left for
 * validation to refuse). A request_uri that is unknown, expired, used or pushed by another
 * client leaves no trusted redirect URI, so it is answered with a page.
 */
export async function resolveAuthorizationParams(
  params: Record<string, string>,
  resource: readonly string[] | undefined,
  deps: ResolveDeps,
): Promise<ResolvedRequest> {
  const requestUri = params.request_uri;
  if (params.request !== undefined && requestUri === undefined)
    return { ...(await openSignedRequest(params, deps)), origin: SIGNED };
  if (
    requestUri === undefined ||
    !requestUri.startsWith(REQUEST_URI_PREFIX) ||
    requestUri.length > 200
  )
    return { params, origin: DIRECT, resource };
  if (!params.client_id)
    throw new AuthorizationPageError(
      'Unknown application',
      'The request does not say which application is asking you to sign in (client_id is missing).',
    );
  const pushed = await deps.pushedRequests.consume(hashOf(requestUri), deps.clock.now());
  // RFC 9126 §4: the client_id must be the one that pushed the request.
  if (!pushed || pushed.clientId !== params.client_id) throw expired();
  return {
    params: { ...pushed.params, client_id: pushed.clientId },
    origin: { pushed: true, signed: pushed.signed },
    resource: pushed.resources.length ? pushed.resources : undefined,
  };
}

const SIGNED: RequestOrigin = Object.freeze({ pushed: false, signed: true });

/**
 * The parameters of a request object sent to /authorize (RFC 9101 §5). When it does not verify,
 * the error goes to the redirect URI in the URL if that one is registered for the client (OIDC
 * Core §6.1 has clients repeat it there), and to a page otherwise.
 */
async function openSignedRequest(
  params: Record<string, string>,
  deps: ResolveDeps,
): Promise<OpenedRequestObject> {
  // An unknown or disabled client is refused (with a page) as validation would refuse it.
  const found = params.client_id ? await deps.clients.findById(params.client_id) : null;
  const { client } =
    found && !found.disabled
      ? { client: found }
      : await checkClientAndRedirect(params, deps.clients);
  try {
    return await openRequestObject(client, params.request!, deps.requestObjects);
  } catch (err) {
    if (!(err instanceof InvalidRequestObject)) throw err;
    const requested = params.redirect_uri;
    if (requested !== undefined && matchesRegisteredRedirectUri(client.redirectUris, requested))
      throw new AuthorizationRedirectError(
        requested,
        params.state !== undefined && params.state.length <= 1000 ? params.state : undefined,
        err,
      );
    throw new AuthorizationPageError(
      'Invalid request',
      'The application sent a sign-in request that could not be verified. Go back to the application and try again.',
      400,
      err.description,
    );
  }
}

export interface PushDeps extends ResolveDeps {
  /** Validates the pushed parameters exactly as /authorize will. */
  validate(
    params: Record<string, string>,
    origin: RequestOrigin,
    resource?: readonly string[],
  ): Promise<AuthorizationRequest>;
  ttlSeconds: number;
}

/** RFC 9126 §2.2 success response. */
export interface PushedResponse {
  request_uri: string;
  expires_in: number;
}

/**
 * Handles a request pushed by the authenticated `client` (RFC 9126 §2.1): validates it as an
 * authorization request, errors answered to the client as at the token endpoint (§2.3), and
 * stores its authorization parameters under a new request_uri.
 */
export async function pushAuthorizationRequest(
  client: ClientRecord,
  params: Record<string, string>,
  resource: readonly string[] | undefined,
  deps: PushDeps,
  /** The key of a DPoP proof sent with the push (RFC 9449 §10.1): the code is bound to it. */
  dpopJkt?: string,
): Promise<PushedResponse> {
  // §2.1: "The request_uri authorization request parameter is one exception, and it MUST NOT be
  // provided."
  if (params.request_uri !== undefined)
    throw new InvalidRequest(
      'request_uri must not be sent to the pushed authorization request endpoint',
    );
  // RFC 9126 §3: a pushed request object is verified as at /authorize, and then only its
  // parameters count.
  const signed = params.request !== undefined;
  const opened: OpenedRequestObject = signed
    ? await openRequestObject(client, params.request!, deps.requestObjects)
    : { params: { ...params, client_id: client.id }, resource: resource && [...resource] };
  const { params: pushedParams, resource: pushedResource } = opened;
  if (dpopJkt !== undefined) {
    // RFC 9449 §10.1: a proof at the push binds the code to its key, as dpop_jkt would; both
    // must then name the same key.
    if (pushedParams.dpop_jkt !== undefined && pushedParams.dpop_jkt !== dpopJkt)
      throw new InvalidDpopProof('dpop_jkt does not match the key of the DPoP proof');
    pushedParams.dpop_jkt = dpopJkt;
  }
  const origin: RequestOrigin = { pushed: true, signed };
  let request: AuthorizationRequest;
  try {
    request = await deps.validate(pushedParams, origin, pushedResource);
  } catch (err) {
    if (err instanceof AuthorizationRedirectError) throw err.error;
    if (err instanceof AuthorizationPageError) throw new InvalidRequest(err.forClient);
    throw err;
  }
  const { requestUri, hash } = newRequestUri();
  const expiresAt = new Date(deps.clock.now().getTime() + deps.ttlSeconds * 1000);
  await deps.pushedRequests.save(
    hash,
    {
      clientId: client.id,
      params: authorizationParameters(request.params),
      resources: request.resources,
      signed: origin.signed,
    },
    expiresAt,
  );
  return { request_uri: requestUri, expires_in: deps.ttlSeconds };
}
