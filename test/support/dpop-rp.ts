/**
 * oauth4webapi as a DPoP client of the running server: discovery, client_credentials, the code
 * flow (with dpop_jkt) and refresh, each with the library's own proofs and its own handling of
 * use_dpop_nonce (one retry with the nonce the server sent, as RFC 9449 §8 intends).
 */
import * as oauth from 'oauth4webapi';
import { HttpBrowser, pkcePair, REDIRECT, signIn } from './code-flow';
import type { TestServer } from './server';

export const insecure = { [oauth.allowInsecureRequests]: true } as const;

export async function discover(server: TestServer): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(server.config.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

export interface DpopClient {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  keyPair: CryptoKeyPair;
  dpop: oauth.DPoPHandle;
}

export async function dpopClient(
  server: TestServer,
  clientId: string,
  secret: string | null,
  keyPair?: CryptoKeyPair,
): Promise<DpopClient> {
  const client: oauth.Client = { client_id: clientId };
  const pair = keyPair ?? (await oauth.generateKeyPair('ES256'));
  return {
    as: await discover(server),
    client,
    auth: secret === null ? oauth.None() : oauth.ClientSecretBasic(secret),
    keyPair: pair,
    dpop: oauth.DPoP(client, pair),
  };
}

/** Runs `attempt` again once when the server asked for (another) DPoP nonce. */
export async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    return attempt();
  }
}

export function clientCredentials(c: DpopClient, scope: string) {
  return withNonceRetry(async () =>
    oauth.processClientCredentialsResponse(
      c.as,
      c.client,
      await oauth.clientCredentialsGrantRequest(
        c.as,
        c.client,
        c.auth,
        { scope },
        { DPoP: c.dpop, ...insecure },
      ),
    ),
  );
}

export function refresh(c: DpopClient, refreshToken: string) {
  return withNonceRetry(async () =>
    oauth.processRefreshTokenResponse(
      c.as,
      c.client,
      await oauth.refreshTokenGrantRequest(c.as, c.client, c.auth, refreshToken, {
        DPoP: c.dpop,
        ...insecure,
      }),
    ),
  );
}

/** Signs in through the browser pages with `dpop_jkt` (unless `jkt: null`) and returns the callback. */
export async function authorize(
  server: TestServer,
  c: DpopClient,
  email: string,
  options: { jkt?: string | null } = {},
): Promise<{ callback: URLSearchParams; verifier: string }> {
  const pkce = pkcePair();
  const url = new URL(c.as.authorization_endpoint!);
  const jkt = options.jkt === undefined ? await c.dpop.calculateThumbprint() : options.jkt;
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: c.client.client_id,
    redirect_uri: REDIRECT,
    scope: 'openid profile offline_access',
    state: 'st',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...(jkt === null ? {} : { dpop_jkt: jkt }),
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const location = await signIn(new HttpBrowser(), server, url.toString(), email);
  return {
    callback: oauth.validateAuthResponse(c.as, c.client, location, 'st'),
    verifier: pkce.verifier,
  };
}

/** The token endpoint's raw answer to a code exchange with `c`'s DPoP key. */
export function exchangeCode(
  c: DpopClient,
  callback: URLSearchParams,
  verifier: string,
): Promise<Response> {
  return oauth.authorizationCodeGrantRequest(c.as, c.client, c.auth, callback, REDIRECT, verifier, {
    DPoP: c.dpop,
    ...insecure,
  });
}

export function userinfo(c: DpopClient, accessToken: string) {
  return withNonceRetry(async () =>
    oauth.processUserInfoResponse(
      c.as,
      c.client,
      oauth.skipSubjectCheck,
      await oauth.userInfoRequest(c.as, c.client, accessToken, { DPoP: c.dpop, ...insecure }),
    ),
  );
}
