/**
 * Client authentication by a signed JWT (RFC 7523 §2.2, §3; RFC 7521 §4.2; OIDC Core §9):
 * private_key_jwt (signed with a key the client registered) and client_secret_jwt (HS256
 * keyed with the client secret). The checks, each refused with 401 invalid_client:
 * - `client_assertion_type` is the JWT bearer type (RFC 7523 §2.2);
 * - `iss` and `sub` are both the client_id, and equal a `client_id` parameter if one is sent
 *   (RFC 7523 §3 items 1–2, RFC 7521 §4.2);
 * - the algorithm is the client's registered `token_endpoint_auth_signing_alg`, or one of those
 *   its method supports; never `none` and never a MAC for a key-registered client (RFC 8725 §3.1);
 * - `aud` names this server: the issuer, the token endpoint or the endpoint called (§3 item 3);
 * - `exp` is present and not past, and not further ahead than CLIENT_ASSERTION_MAX_LIFETIME;
 *   `nbf` and `iat` are not in the future (§3 items 4–6), all with CLOCK_SKEW of tolerance;
 * - `jti` is present and used once per client (§3 item 7), remembered until `exp` has passed.
 * Descriptions say which check failed (a client needs that to fix itself) but never echo a
 * secret or say more about a client than that check.
 */
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import {
  CLIENT_KEY_ALGS,
  CLIENT_SECRET_ALGS,
  type ClientAuthSigningAlg,
} from '../../clients/client-jwks';
import { ClientKeyError, type ClientKeys } from '../../clients/client-keys';
import type { ClientRecord } from '../../clients/client-storage';
import type { Kek } from '../../keys/envelope';
import type { Clock } from '../../shared/clock';
import { InvalidClient, InvalidRequest, type OAuthError } from '../errors';
import type { UsedJtiRepository } from '../replay/used-jti-storage';
import type { ClientLookup } from './client-cache';
import { openClientSecret } from './secrets';

/** RFC 7523 §2.2. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type AssertionMethod = 'private_key_jwt' | 'client_secret_jwt';

export interface ClientAssertionDeps {
  /** The issuer identifier, one accepted `aud`. */
  issuer: string;
  /** The token endpoint URL, accepted as `aud` at every endpoint (RFC 7523 §3 item 3). */
  tokenEndpoint: string;
  clock: Clock;
  usedJtis: UsedJtiRepository;
  clientKeys: ClientKeys;
  keks: readonly Kek[];
  /** CLIENT_ASSERTION_MAX_LIFETIME. */
  maxLifetimeSeconds: number;
  /** CLOCK_SKEW. */
  clockSkewSeconds: number;
}

export interface AssertionParams {
  clientAssertion: string | undefined;
  clientAssertionType: string | undefined;
  clientId: string | undefined;
  /** The URL of the endpoint called, also accepted as `aud`. */
  endpointUrl: string;
}

const MAX_ASSERTION_LENGTH = 16 * 1024;
const MAX_JTI_LENGTH = 256;

const failed = (why: string, cause?: unknown) =>
  new InvalidClient(`Client authentication failed: ${why}`, cause ? { cause } : undefined);

/** The client a valid assertion authenticates, and the method it used. */
export async function authenticateByAssertion(
  params: AssertionParams,
  clients: ClientLookup,
  deps: ClientAssertionDeps,
): Promise<{ client: ClientRecord; method: AssertionMethod }> {
  const { clientAssertion: assertion, clientAssertionType: type } = params;
  if (assertion === undefined || type === undefined || assertion === '' || type === '')
    throw new InvalidRequest('client_assertion and client_assertion_type are sent together');
  if (type !== JWT_BEARER_ASSERTION_TYPE)
    throw failed(`client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`);
  if (assertion.length > MAX_ASSERTION_LENGTH) throw failed('the client_assertion is too large');

  let alg: unknown;
  let iss: unknown;
  let sub: unknown;
  try {
    ({ alg } = decodeProtectedHeader(assertion));
    ({ iss, sub } = decodeJwt(assertion));
  } catch (err) {
    throw failed('the client_assertion is not a signed JWT', err);
  }
  if (typeof sub !== 'string' || !sub || iss !== sub)
    throw failed('the client_assertion iss and sub must both be the client_id');
  if (params.clientId !== undefined && params.clientId !== sub)
    throw failed('client_id does not match the client_assertion sub');

  const client = sub.length <= 200 ? await clients.findById(sub) : null;
  // As for a secret (authenticate.ts): an unknown client gets the one generic answer.
  if (!client || client.disabled || client.isPublic)
    throw new InvalidClient('Client authentication failed');

  // The assertion's kind follows its alg: a MAC is client_secret_jwt, a signature private_key_jwt.
  // Saying which method the client registered tells nothing secret: it is part of its
  // registration (RFC 7591 §2), and the assertion is still to be verified with its key.
  const method: AssertionMethod =
    typeof alg === 'string' && alg.startsWith('HS') ? 'client_secret_jwt' : 'private_key_jwt';
  if (client.tokenEndpointAuthMethod !== method)
    throw failed(
      `this client is registered for ${client.tokenEndpointAuthMethod ?? 'a client secret'}, not ${method}`,
    );
  const allowed = assertionAlgorithms(client, method);
  if (typeof alg !== 'string' || !(allowed as readonly string[]).includes(alg))
    throw failed(
      `the client_assertion alg ${JSON.stringify(alg).slice(0, 40)} is not allowed for this client (${allowed.join(', ')})`,
    );

  const now = deps.clock.epochSeconds();
  const options = {
    algorithms: [...allowed],
    issuer: client.id,
    subject: client.id,
    audience: [deps.issuer, deps.tokenEndpoint, params.endpointUrl],
    clockTolerance: deps.clockSkewSeconds,
    currentDate: new Date(now * 1000),
    requiredClaims: ['exp', 'jti'],
  };
  let payload;
  try {
    payload =
      method === 'private_key_jwt'
        ? (await jwtVerify(assertion, deps.clientKeys.resolver(client), options)).payload
        : (await jwtVerify(assertion, secretKey(client, deps), options)).payload;
  } catch (err) {
    throw verificationFailure(err);
  }

  const exp = payload.exp!;
  if (exp > now + deps.maxLifetimeSeconds + deps.clockSkewSeconds)
    throw failed(
      `the client_assertion exp is too far ahead (at most ${deps.maxLifetimeSeconds} seconds)`,
    );
  if (typeof payload.iat === 'number' && payload.iat > now + deps.clockSkewSeconds)
    throw failed('the client_assertion iat is in the future');
  const { jti } = payload;
  if (typeof jti !== 'string' || !jti || jti.length > MAX_JTI_LENGTH)
    throw failed(`the client_assertion jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`);
  // RFC 7523 §3 item 7: single use, remembered for as long as the assertion could be accepted.
  const expiresAt = new Date((exp + deps.clockSkewSeconds) * 1000);
  if (!(await deps.usedJtis.useOnce('client_assertion', `${client.id}:${jti}`, expiresAt)))
    throw failed('the client_assertion jti has already been used');
  return { client, method };
}

/**
 * The algorithms `client` may sign its assertions with: its registered one, else every one
 * its method supports.
 */
export function assertionAlgorithms(
  client: Pick<ClientRecord, 'tokenEndpointAuthSigningAlg'>,
  method: AssertionMethod,
): readonly ClientAuthSigningAlg[] {
  const supported = method === 'client_secret_jwt' ? CLIENT_SECRET_ALGS : CLIENT_KEY_ALGS;
  const pinned = client.tokenEndpointAuthSigningAlg;
  return pinned ? supported.filter((a) => a === pinned) : supported;
}

/** The HMAC key of a client_secret_jwt client: its secret, decrypted. */
function secretKey(client: ClientRecord, deps: ClientAssertionDeps): Uint8Array {
  if (!client.secretCiphertext) throw failed('the client has no usable secret');
  try {
    return new TextEncoder().encode(
      openClientSecret(deps.keks, client.id, client.secretCiphertext),
    );
  } catch (err) {
    // A KEK missing from the configuration: the operator's problem, logged with the cause.
    throw failed('the client secret cannot be used', err);
  }
}

function verificationFailure(err: unknown): OAuthError {
  if (err instanceof InvalidClient) return err;
  if (err instanceof ClientKeyError) return failed(err.message, err);
  if (err instanceof joseErrors.JWTExpired) return failed('the client_assertion has expired', err);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return failed(`the client_assertion has no ${err.claim}`, err);
    if (err.claim === 'aud')
      return failed(
        'the client_assertion aud must be the issuer, the token endpoint or this endpoint',
        err,
      );
    if (err.claim === 'nbf') return failed('the client_assertion is not valid yet (nbf)', err);
    return failed(`the client_assertion ${err.claim} is not valid`, err);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return failed('the client_assertion signature is invalid', err);
  if (err instanceof joseErrors.JOSEError)
    return failed('the client_assertion could not be verified', err);
  throw err;
}
