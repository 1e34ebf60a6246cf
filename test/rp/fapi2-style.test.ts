/**
 * Issue 20's pieces together, as a FAPI 2.0-style client uses them, driven by oauth4webapi:
 * a client registered by metadata document with private_key_jwt (inline keys), DPoP-bound
 * tokens, pushed requests required and a registered resource; the push carries a DPoP proof,
 * which binds the code to the key (RFC 9449 §10.1); the code exchange, the refresh and the
 * userinfo call are all DPoP-bound.
 */
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { createClientFromMetadata } from '../../src/admin/clients';
import type { UserRecord } from '../../src/accounts/user-storage';
import { HttpBrowser, makeUser, REDIRECT, signIn } from '../support/code-flow';
import { startTestServer, type TestServer } from '../support/server';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const API = 'https://api.example/v1';

let server: TestServer;
let user: UserRecord;
let as: oauth.AuthorizationServer;
let client: oauth.Client;
let auth: oauth.ClientAuth;

beforeAll(async () => {
  server = await startTestServer();
  user = await makeUser(server);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const registered = await createClientFromMetadata(server.services, {
    client_name: 'FAPI-style app',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid offline_access',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'app-1', alg: 'ES256' }] },
    dpop_bound_access_tokens: true,
    require_pushed_authorization_requests: true,
    audiences: [API],
    first_party: true,
  });
  expect(registered.secret).toBeNull();
  const issuer = new URL(server.config.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  client = { client_id: registered.client.id };
  auth = oauth.PrivateKeyJwt({ key: privateKey, kid: 'app-1' });
});
afterAll(async () => {
  await server?.stop();
});

async function pushAndSignIn(dpop: oauth.DPoPHandle) {
  const verifier = oauth.generateRandomCodeVerifier();
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid offline_access',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce: 'n-fapi',
    resource: API,
  });
  const pushed = await oauth.processPushedAuthorizationResponse(
    as,
    client,
    await oauth.pushedAuthorizationRequest(as, client, auth, params, { DPoP: dpop, ...insecure }),
  );
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('request_uri', pushed.request_uri);
  const callback = await signIn(new HttpBrowser(), server, url.toString(), user.email);
  return { verifier, callback: oauth.validateAuthResponse(as, client, callback) };
}

it('signs in, exchanges, refreshes and calls userinfo, every token bound to the key', async () => {
  const keyPair = await oauth.generateKeyPair('ES256');
  const dpop = oauth.DPoP(client, keyPair);
  const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
  const { verifier, callback } = await pushAndSignIn(dpop);
  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    client,
    await oauth.authorizationCodeGrantRequest(as, client, auth, callback, REDIRECT, verifier, {
      DPoP: dpop,
      ...insecure,
    }),
    { expectedNonce: 'n-fapi' },
  );
  expect(tokens.token_type).toBe('dpop');
  const claims = decodeJwt(tokens.access_token);
  expect(claims.cnf).toEqual({ jkt });
  expect(claims.aud).toBe(API);

  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, {
      DPoP: dpop,
      ...insecure,
    }),
  );
  expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });

  const info = await oauth.processUserInfoResponse(
    as,
    client,
    user.id,
    await oauth.userInfoRequest(as, client, refreshed.access_token, { DPoP: dpop, ...insecure }),
  );
  expect(info.sub).toBe(user.id);
});

it('a code pushed with one key cannot be redeemed with another', async () => {
  const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  const { verifier, callback } = await pushAndSignIn(dpop);
  const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  await expect(
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, callback, REDIRECT, verifier, {
        DPoP: thief,
        ...insecure,
      }),
      { expectedNonce: 'n-fapi' },
    ),
  ).rejects.toMatchObject({ error: 'invalid_grant' });
});

it('the token endpoint refuses this client a request without a DPoP proof', async () => {
  const res = await oauth.refreshTokenGrantRequest(as, client, auth, 'whatever', insecure);
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
});

it('a push whose dpop_jkt names another key than its proof is refused (invalid_dpop_proof)', async () => {
  const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  const other = await calculateJwkThumbprint(
    await exportJWK((await oauth.generateKeyPair('ES256')).publicKey),
  );
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
    code_challenge_method: 'S256',
    dpop_jkt: other,
  });
  const res = await oauth.pushedAuthorizationRequest(as, client, auth, params, {
    DPoP: dpop,
    ...insecure,
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
});
