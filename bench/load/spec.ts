/**
 * What a load run is asked to do (serializable: it crosses to the load-generator process) and
 * how responses are checked. A response that fails its check counts as an error, so a broken
 * server reads as failed, never as fast.
 */
import type { DpopProofKey } from './dpop-proofs';

export type Alg = 'RS256' | 'ES256';

export type RequestPlan =
  /**
   * The same request on every connection; `bodies[i % n]` on connection i when given. With
   * `eachBodyOnce`, every request takes the next body instead (for requests that change state,
   * such as revoking a token: the list must outlast the run, and wraps around if it does not).
   */
  | {
      kind: 'fixed';
      method: 'GET' | 'POST';
      path: string;
      headers: Record<string, string>;
      bodies?: string[];
      eachBodyOnce?: boolean;
    }
  /**
   * Refresh rotation: connection i starts from `initialTokens[i]` and always presents the
   * refresh token it received last (its own chain), as a real client does.
   */
  | {
      kind: 'refresh-chain';
      path: string;
      headers: Record<string, string>;
      initialTokens: string[];
      extraParams: string;
    }
  /** The same request, each with a fresh DPoP proof by `key` (RFC 9449 §4) made as it is sent. */
  | {
      kind: 'dpop';
      method: 'POST';
      path: string;
      headers: Record<string, string>;
      body: string;
      key: DpopProofKey;
      /** The proofs' htu: the URL as the server's issuer names it. */
      htu: string;
    };

export interface ResponseCheck {
  status: number;
  body: 'none' | 'jwks' | 'token' | 'introspection';
  /** For token responses: the expected signing alg of the access (and ID) token. */
  alg?: Alg;
  idToken?: boolean;
  refreshToken?: boolean;
  /** For token responses bound to a DPoP key: the key's thumbprint (`cnf.jkt`, token_type DPoP). */
  dpopJkt?: string;
}

export interface LoadSpec {
  name: string;
  host: string;
  port: number;
  connections: number;
  /** The warm-up lasts at least this long... */
  warmupMs: number;
  /**
   * ...and until this many correct answers (JIT tier-up is counted in calls, not seconds: a
   * slow scenario needs longer to run its code warm), but no longer than warmupMaxMs.
   */
  warmupRequests: number;
  warmupMaxMs: number;
  durationMs: number;
  /** Check the body of every n-th response (status is always checked; chains check all). */
  sampleEvery: number;
  request: RequestPlan;
  check: ResponseCheck;
}

export interface LoadResult {
  name: string;
  connections: number;
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** Up to a few distinct error descriptions (never token values). */
  errorSamples: string[];
  bodiesChecked: number;
  /**
   * CPU time of the load generator over wall time (1.0 = one core saturated): near 1 means the
   * generator, not the server, may be the limit.
   */
  generatorCpu: number;
  /** How long the warm-up took (see LoadSpec.warmupRequests). */
  warmupMs: number;
  /** Refresh chains: mean number of rotations per connection over warm-up and measurement. */
  meanChainLength?: number;
}

function b64urlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Checks a compact JWS header; returns an error description or null. */
export function checkJwt(
  token: unknown,
  alg: Alg | undefined,
  typ: string | undefined,
  what: string,
): string | null {
  if (typeof token !== 'string') return `${what} missing`;
  const parts = token.split('.');
  if (parts.length !== 3) return `${what} is not a compact JWS`;
  let header: Record<string, unknown>;
  try {
    header = b64urlJson(parts[0]!);
  } catch {
    return `${what} header is not JSON`;
  }
  if (alg && header.alg !== alg) return `${what} alg ${String(header.alg)}, expected ${alg}`;
  if (typ && String(header.typ).toLowerCase() !== typ)
    return `${what} typ ${String(header.typ)}, expected ${typ}`;
  if (typeof header.kid !== 'string') return `${what} has no kid`;
  return null;
}

/** Checks a parsed body against the expectation; returns an error description or null. */
export function checkBody(
  check: ResponseCheck,
  body: unknown,
  previousRefreshToken?: string,
): string | null {
  if (check.body === 'none') return null;
  if (typeof body !== 'object' || body === null) return 'body is not a JSON object';
  const b = body as Record<string, unknown>;
  switch (check.body) {
    case 'jwks': {
      const keys = b.keys;
      if (!Array.isArray(keys) || keys.length === 0) return 'JWKS has no keys';
      if (
        keys.some(
          (k: Record<string, unknown>) =>
            typeof k.kid !== 'string' || typeof k.kty !== 'string' || 'd' in k,
        )
      )
        return 'JWKS key malformed or private';
      return null;
    }
    case 'introspection':
      if (b.active !== true) return `introspection active=${String(b.active)}`;
      if (typeof b.client_id !== 'string' || typeof b.exp !== 'number')
        return 'introspection lacks client_id or exp';
      return null;
    case 'token': {
      const tokenType = check.dpopJkt === undefined ? 'bearer' : 'dpop';
      if (String(b.token_type).toLowerCase() !== tokenType)
        return `token_type ${String(b.token_type)}`;
      if (typeof b.expires_in !== 'number') return 'expires_in missing';
      const at = checkJwt(b.access_token, check.alg, 'at+jwt', 'access_token');
      if (at) return at;
      if (check.dpopJkt !== undefined) {
        const cnf = b64urlJson((b.access_token as string).split('.')[1]!).cnf as
          { jkt?: unknown } | undefined;
        if (cnf?.jkt !== check.dpopJkt) return 'access_token cnf.jkt is not the proof key';
      }
      if (check.idToken) {
        const id = checkJwt(b.id_token, check.alg, undefined, 'id_token');
        if (id) return id;
      }
      if (check.refreshToken) {
        if (typeof b.refresh_token !== 'string' || b.refresh_token.length < 20)
          return 'refresh_token missing';
        if (b.refresh_token === previousRefreshToken) return 'refresh_token was not rotated';
      }
      return null;
    }
  }
}
