/**
 * A real relying-party library against the running server: openid-client v6 (panva) does
 * discovery, the code flow with PKCE, state and nonce, refresh, userinfo, revocation and
 * client_credentials with nothing special-cased but plain http on loopback
 * (allowInsecureRequests). The login form is driven over plain HTTP with a cookie jar.
 */
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from '../support/server';
import {
  HttpBrowser,
  makeClient,
  makeUser,
  REDIRECT,
  signIn,
  type FlowClient,
} from '../support/code-flow';
import type { UserRecord } from '../../src/accounts/user-storage';

let server: TestServer;
let user: UserRecord;
let rp: FlowClient;
let config: oidc.Configuration;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  rp = await makeClient(server, {
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
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

async function codeFlow(
  scope: string,
  browser = new HttpBrowser(),
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const callback = await signIn(browser, server, url.toString(), user.email);
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
}

describe('openid-client v6 against Tessera', () => {
  it('discovery accepts the metadata as it is', () => {
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(server.config.issuer);
    expect(meta.authorization_endpoint).toBe(`${server.config.issuer}/authorize`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.end_session_endpoint).toBe(`${server.config.issuer}/session/end`);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.grant_types_supported).toContain('authorization_code');
  });

  it('code flow with PKCE, state and nonce → refresh → userinfo → revocation', async () => {
    const tokens = await codeFlow('openid profile email offline_access');
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user.id);
    expect(claims.aud).toBe(rp.client.id);
    expect(typeof claims.auth_time).toBe('number');
    expect(tokens.refresh_token).toBeTruthy();

    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, email: user.email });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    await oidc.tokenRevocation(config, refreshed.refresh_token!, {
      token_type_hint: 'refresh_token',
    });
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('the end_session URL it builds signs the user out', async () => {
    const browser = new HttpBrowser();
    const tokens = await codeFlow('openid', browser);
    const url = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://rp.example/bye',
      state: 'x',
    });
    const res = await browser.get(url.toString());
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://rp.example/bye?state=x');
    const silent = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      prompt: 'none',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const again = await browser.get(silent.toString());
    expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe(
      'login_required',
    );
  });

  it('client_credentials', async () => {
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.access_token).toBeTruthy();
  });
});
