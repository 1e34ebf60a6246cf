/**
 * Resource indicators (RFC 8707) with a real relying-party library, openid-client v6: the code
 * flow naming two resources at /authorize, the code exchange and refreshes narrowing to one,
 * and client_credentials for one resource. The access token's `aud` is what was asked for.
 */
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../support/server';
import { HttpBrowser, makeClient, makeUser, REDIRECT, signIn } from '../support/code-flow';
import type { UserRecord } from '../../src/accounts/user-storage';

const ORDERS = 'https://orders.example.test';
const BILLING = 'https://billing.example.test/v1';
const OTHER = 'https://other.example.test';

let server: TestServer;
let user: UserRecord;
let config: oidc.Configuration;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  const rp = await makeClient(server, {
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    scopes: ['openid', 'offline_access', 'api'],
    audiences: [ORDERS, BILLING, OTHER],
  });
  config = await oidc.discovery(
    new URL(server.config.issuer),
    rp.client.id,
    rp.secret!,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
});
afterAll(async () => {
  await server?.stop();
});

/** `resource` once per value, as RFC 8707 §2 has a client repeat it. */
function withResources(params: Record<string, string>, resources: string[]): URLSearchParams {
  const search = new URLSearchParams(params);
  for (const r of resources) search.append('resource', r);
  return search;
}

/** The code flow asking for `resources`; the code is exchanged with `exchange` as resources. */
async function codeFlow(resources: string[], exchange: string[] = []) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(
    config,
    withResources(
      {
        redirect_uri: REDIRECT,
        scope: 'openid offline_access api',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      },
      resources,
    ),
  );
  const callback = await signIn(new HttpBrowser(), server, url.toString(), user.email);
  return oidc.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state },
    withResources({}, exchange),
  );
}

const audOf = (accessToken: string) => decodeJwt(accessToken).aud;

describe('openid-client v6 with resource indicators', () => {
  it('code flow for two resources: the token is for both, a refresh narrows to one', async () => {
    const tokens = await codeFlow([ORDERS, BILLING]);
    expect(audOf(tokens.access_token)).toEqual([ORDERS, BILLING]);
    // The ID token is still for the client (OIDC Core §2), whatever the resources.
    expect(tokens.claims()!.aud).toBe(config.clientMetadata().client_id);

    const narrowed = await oidc.refreshTokenGrant(
      config,
      tokens.refresh_token!,
      withResources({}, [BILLING]),
    );
    expect(audOf(narrowed.access_token)).toBe(BILLING);
    // The family keeps its grant: the next refresh without resource is for both again.
    const again = await oidc.refreshTokenGrant(config, narrowed.refresh_token!);
    expect(audOf(again.access_token)).toEqual([ORDERS, BILLING]);
    // And it may narrow to the other one.
    const other = await oidc.refreshTokenGrant(
      config,
      again.refresh_token!,
      withResources({}, [ORDERS]),
    );
    expect(audOf(other.access_token)).toBe(ORDERS);
  });

  it('the code exchange narrows to one of the requested resources', async () => {
    const tokens = await codeFlow([ORDERS, BILLING], [ORDERS]);
    expect(audOf(tokens.access_token)).toBe(ORDERS);
    // The family holds the whole grant of the authorization request.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(audOf(refreshed.access_token)).toEqual([ORDERS, BILLING]);
  });

  it('a refresh that widens the grant is invalid_target, and the refresh token survives', async () => {
    const tokens = await codeFlow([ORDERS]);
    await expect(
      oidc.refreshTokenGrant(config, tokens.refresh_token!, withResources({}, [BILLING])),
    ).rejects.toMatchObject({ error: 'invalid_target', status: 400 });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(audOf(refreshed.access_token)).toBe(ORDERS);
  });

  it('narrowing the code exchange to a resource not granted at /authorize is invalid_target', async () => {
    await expect(codeFlow([ORDERS], [BILLING])).rejects.toMatchObject({
      error: 'invalid_target',
      status: 400,
    });
  });

  it('client_credentials for one resource, and for two', async () => {
    const one = await oidc.clientCredentialsGrant(config, withResources({ scope: 'api' }, [OTHER]));
    expect(audOf(one.access_token)).toBe(OTHER);
    const two = await oidc.clientCredentialsGrant(
      config,
      withResources({ scope: 'api' }, [OTHER, ORDERS]),
    );
    expect(audOf(two.access_token)).toEqual([OTHER, ORDERS]);
    // Without resource: the client's default audience, all of its registered resources.
    const plain = await oidc.clientCredentialsGrant(config, { scope: 'api' });
    expect(audOf(plain.access_token)).toEqual([ORDERS, BILLING, OTHER]);
  });

  it('client_credentials for an unregistered resource is invalid_target', async () => {
    await expect(
      oidc.clientCredentialsGrant(config, withResources({}, ['https://evil.example.test'])),
    ).rejects.toMatchObject({ error: 'invalid_target', status: 400 });
  });
});
