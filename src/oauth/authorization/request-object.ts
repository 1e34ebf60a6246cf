/**
 * Signed authorization requests (RFC 9101, "JAR"; OpenID Connect Core §6.1): the `request`
 * parameter, at /authorize or pushed to /par, is a JWT signed by the client with one of its
 * registered keys. Its claims are the authorization request, and only they count (RFC 9101
 * §6.3: parameters outside it are ignored, except client_id, which must agree).
 *
 * Checks, each refusing with invalid_request_object (RFC 9101 §7):
 * - signed with an asymmetric algorithm, pinned to the client's request_object_signing_alg when
 *   it registered one; never `alg: none` (RFC 9101 §6.1 leaves unsigned objects to the server:
 *   this one refuses them) and never encrypted (JWE is not supported);
 * - `typ`, when present, `oauth-authz-req+jwt` (§10.8) or `JWT`;
 * - `iss` is the client_id and `aud` this issuer (§10.2: the object is for this server only);
 * - `exp` present and at most an hour ahead, `nbf` and `iat` honoured with the clock skew;
 * - `jti`, when present, single use (a captured object cannot be replayed);
 * - no `request` or `request_uri` inside.
 */
import {
  decodeProtectedHeader,
  errors as joseErrors,
  type JWTPayload,
  type JWTVerifyOptions,
  type JWTVerifyResult,
} from 'jose';
import { CLIENT_KEY_ALGS, type ClientKeyAlg } from '../../clients/client-jwks';
import type { ClientRecord } from '../../clients/client-storage';
import type { Clock } from '../../shared/clock';
import type { UsedJtiRepository } from '../replay/used-jti-storage';
import { InvalidRequestObject } from '../errors';

/** Algorithms a request object may be signed with: the client-key ones (asymmetric, RFC 8725 §3.1). */
export const REQUEST_OBJECT_ALGS = CLIENT_KEY_ALGS;
export type RequestObjectAlg = ClientKeyAlg;

const TYPES = new Set(['oauth-authz-req+jwt', 'jwt']);
const MAX_LIFETIME_SECONDS = 3600;
const MAX_LENGTH = 16_384;
/** Claims about the JWT itself, not authorization request parameters. */
const JWT_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sub']);

export interface RequestObjectDeps {
  /** Verifies a JWT with the client's registered keys (jwks or jwks_uri). */
  verifyClientJwt(
    client: ClientRecord,
    jwt: string,
    options: JWTVerifyOptions & { algorithms: readonly RequestObjectAlg[] },
  ): Promise<JWTVerifyResult>;
  usedJtis: Pick<UsedJtiRepository, 'useOnce'>;
  issuer: string;
  clockSkew: number;
  clock: Clock;
}

/** The authorization request inside a verified request object. */
export interface OpenedRequestObject {
  /** Its parameters as strings (client_id included). */
  params: Record<string, string>;
  /** Its RFC 8707 `resource` (a string or a list of them in the object). */
  resource: string[] | undefined;
}

/** The authorization request a verified request object carries. */
export async function openRequestObject(
  client: ClientRecord,
  jwt: string,
  deps: RequestObjectDeps,
): Promise<OpenedRequestObject> {
  const refuse = (why: string, cause?: unknown): never => {
    throw new InvalidRequestObject(`The request object ${why}`, { cause });
  };
  if (jwt.length > MAX_LENGTH) refuse('is too large');
  const parts = jwt.split('.');
  if (parts.length === 5) refuse('is encrypted; encrypted request objects are not supported');
  if (parts.length !== 3) refuse('is not a JWT');
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch (err) {
    return refuse('is not a JWT', err);
  }
  if (header.alg === undefined || header.alg.toLowerCase() === 'none')
    refuse('is not signed; unsigned request objects are not accepted');
  if (header.typ !== undefined && !TYPES.has(header.typ.toLowerCase()))
    refuse(`has typ "${header.typ.slice(0, 40)}", not oauth-authz-req+jwt`);
  const algorithms = client.requestObjectSigningAlg
    ? [client.requestObjectSigningAlg as RequestObjectAlg]
    : [...REQUEST_OBJECT_ALGS];
  if (!algorithms.includes(header.alg as RequestObjectAlg))
    refuse(
      `is signed with ${header.alg!.slice(0, 20)}; this client's request objects use ${algorithms.join(', ')}`,
    );

  let payload: JWTPayload;
  try {
    ({ payload } = await deps.verifyClientJwt(client, jwt, {
      algorithms,
      issuer: client.id,
      audience: deps.issuer,
      clockTolerance: deps.clockSkew,
      requiredClaims: ['exp'],
      currentDate: deps.clock.now(),
    }));
  } catch (err) {
    return refuse(describeFailure(err), err);
  }
  const now = deps.clock.epochSeconds();
  if (payload.exp! - now > MAX_LIFETIME_SECONDS + deps.clockSkew)
    refuse(`expires too far ahead (exp at most ${MAX_LIFETIME_SECONDS} seconds from now)`);
  if (payload.client_id !== undefined && payload.client_id !== client.id)
    refuse('names another client_id');
  if (payload.request !== undefined || payload.request_uri !== undefined)
    refuse('contains request or request_uri');
  if (payload.jti !== undefined) {
    if (typeof payload.jti !== 'string' || payload.jti.length > 200) refuse('has an invalid jti');
    const fresh = await deps.usedJtis.useOnce(
      'request_object',
      `${client.id} ${payload.jti}`,
      new Date(payload.exp! * 1000),
    );
    if (!fresh) refuse('was used already (its jti is single use)');
  }

  const params: Record<string, string> = {};
  let resource: string[] | undefined;
  for (const [name, value] of Object.entries(payload)) {
    if (JWT_CLAIMS.has(name)) continue;
    if (name === 'resource') {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string'))
        refuse('has a resource that is neither a string nor a list of strings');
      resource = list as string[];
      continue;
    }
    // OpenID Connect Core §6.1: max_age is a number in a request object.
    if (typeof value === 'string') params[name] = value;
    else if (typeof value === 'number' && Number.isInteger(value)) params[name] = String(value);
    else refuse(`has a ${name} that is not a string`);
  }
  params.client_id = client.id;
  return { params, resource };
}

function describeFailure(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'must have iss set to the client_id';
    if (err.claim === 'aud') return 'must have aud set to this issuer';
    if (err.claim === 'exp') return 'must have an exp';
    if (err.claim === 'nbf') return 'is not valid yet (nbf)';
    return `has an invalid ${err.claim}`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return "signature does not verify with the client's keys";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'is signed with an algorithm not allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return 'is signed with a key the client has not registered';
  if (err instanceof Error && err.name === 'ClientKeyError')
    return `cannot be checked: ${err.message}`;
  return 'does not verify';
}
