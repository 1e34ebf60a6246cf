/**
 * The load scenarios, as specs for the load generator. Tessera and the peer get byte-for-byte
 * the same kind of request (form body, client_secret_basic) so their figures compare.
 */
import type { DpopProofKey } from './load/dpop-proofs';
import type { Alg, LoadSpec, RequestPlan, ResponseCheck } from './load/spec';
import type { BenchOptions } from './options';

const FORM = 'application/x-www-form-urlencoded';

export interface Target {
  host: string;
  port: number;
}

function spec(
  options: BenchOptions,
  name: string,
  target: Target,
  request: RequestPlan,
  check: ResponseCheck,
  sampleEvery = 50,
): LoadSpec {
  return {
    name,
    host: target.host,
    port: target.port,
    connections: options.connections,
    warmupMs: options.warmupMs,
    warmupRequests: options.warmupRequests,
    warmupMaxMs: options.warmupMaxMs,
    durationMs: options.durationMs,
    sampleEvery,
    request,
    check,
  };
}

export function jwksScenario(
  options: BenchOptions,
  name: string,
  target: Target,
  path = '/.well-known/jwks.json',
): LoadSpec {
  return spec(
    options,
    name,
    target,
    { kind: 'fixed', method: 'GET', path, headers: {} },
    { status: 200, body: 'jwks' },
    1000,
  );
}

export function emptyRouteScenario(options: BenchOptions, target: Target): LoadSpec {
  return spec(
    options,
    'limit/empty-koa',
    target,
    { kind: 'fixed', method: 'GET', path: '/', headers: {} },
    { status: 200, body: 'none' },
    1000,
  );
}

export function clientCredentialsScenario(
  options: BenchOptions,
  name: string,
  target: Target,
  basic: string,
  alg: Alg,
  scope: string,
): LoadSpec {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope }).toString();
  return spec(
    options,
    name,
    target,
    {
      kind: 'fixed',
      method: 'POST',
      path: '/token',
      headers: { Authorization: basic, 'Content-Type': FORM },
      bodies: [body],
    },
    { status: 200, body: 'token', alg },
  );
}

/**
 * client_credentials with DPoP (RFC 9449 §5): the Bearer scenario's request plus a proof the
 * generator signs afresh for every request, so the server verifies each in full and records
 * its jti — the per-request cost a DPoP client adds.
 */
export function dpopClientCredentialsScenario(
  options: BenchOptions,
  name: string,
  target: Target,
  basic: string,
  alg: Alg,
  scope: string,
  dpop: { key: DpopProofKey; jkt: string; issuer: string },
): LoadSpec {
  return spec(
    options,
    name,
    target,
    {
      kind: 'dpop',
      method: 'POST',
      path: '/token',
      headers: { Authorization: basic, 'Content-Type': FORM },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
      key: dpop.key,
      htu: `${dpop.issuer}/token`,
    },
    { status: 200, body: 'token', alg, dpopJkt: dpop.jkt },
  );
}

export function refreshScenario(
  options: BenchOptions,
  name: string,
  target: Target,
  basic: string,
  alg: Alg,
  initialTokens: string[],
  idToken: boolean,
): LoadSpec {
  return spec(
    options,
    name,
    target,
    {
      kind: 'refresh-chain',
      path: '/token',
      headers: { Authorization: basic, 'Content-Type': FORM },
      initialTokens,
      extraParams: '',
    },
    { status: 200, body: 'token', alg, refreshToken: true, idToken },
    1,
  );
}

/**
 * Password logins are bound by argon2id (about a hundred a second on two cores): beyond a few
 * requests per hash thread, more connections only lengthen the queue, and at 64 a login waits
 * longer than a --quick window. So this scenario uses at most PASSWORD_CONNECTIONS; its target
 * is a throughput ratio against the argon2id limit, which keeps its hash threads busy too.
 */
export const PASSWORD_CONNECTIONS = 16;

export function passwordScenario(
  options: BenchOptions,
  name: string,
  target: Target,
  basic: string,
  alg: Alg,
  users: { email: string; password: string }[],
  scope: string,
): LoadSpec {
  const bodies = users.map((u) =>
    new URLSearchParams({
      grant_type: 'password',
      username: u.email,
      password: u.password,
      scope,
    }).toString(),
  );
  return {
    ...spec(
      options,
      name,
      target,
      {
        kind: 'fixed',
        method: 'POST',
        path: '/token',
        headers: { Authorization: basic, 'Content-Type': FORM },
        bodies,
      },
      {
        status: 200,
        body: 'token',
        alg,
        refreshToken: true,
        idToken: scope.split(' ').includes('openid'),
      },
      5,
    ),
    connections: Math.min(options.connections, PASSWORD_CONNECTIONS),
  };
}

export function introspectionScenario(
  options: BenchOptions,
  name: string,
  target: Target,
  basic: string,
  accessToken: string,
): LoadSpec {
  const body = new URLSearchParams({
    token: accessToken,
    token_type_hint: 'access_token',
  }).toString();
  return spec(
    options,
    name,
    target,
    {
      kind: 'fixed',
      method: 'POST',
      path: '/introspect',
      headers: { Authorization: basic, 'Content-Type': FORM },
      bodies: [body],
    },
    { status: 200, body: 'introspection' },
  );
}
