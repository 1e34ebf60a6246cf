/**
 * DPoP-bound access tokens at /userinfo (RFC 9449 §7): accepted with the DPoP scheme and a
 * proof for this request, this token (ath) and the token's key; every refusal is a 401 with a
 * `WWW-Authenticate: DPoP` challenge naming the accepted algorithms (§7.1).
 */
import * as oauth from 'oauth4webapi';
import { makeClient as makeFlowClient, makeUser } from '../../support/code-flow';
import { makeClient, passwordLogin, post, type TestClient } from '../../support/fixtures';
import { makeProof, proofKey, type ProofKey } from '../../support/dpop';
import { authorize, dpopClient, exchangeCode, userinfo } from '../../support/dpop-rp';
import { useTestServer } from '../../support/server';
import type { UserRecord } from '../../../src/accounts/user-storage';

const server = useTestServer();
const url = (path: string) => `${server().config.issuer}${path}`;

let service: TestClient;
let user: UserRecord;
let key: ProofKey;
let bound: string;
beforeAll(async () => {
  service = await makeClient(server());
  user = await makeUser(server());
  key = await proofKey();
  const login = await post(
    server(),
    '/token',
    {
      grant_type: 'password',
      username: user.email,
      password: 'correct horse battery staple',
      scope: 'openid profile',
    },
    {
      headers: {
        authorization: `Basic ${Buffer.from(`${service.client.id}:${service.secret}`).toString('base64')}`,
        dpop: await makeProof(key, url('/token')),
      },
    },
  );
  expect(login.body.token_type).toBe('DPoP');
  bound = login.body.access_token as string;
});

function getUserinfo(headers: Record<string, string>): Promise<Response> {
  return fetch(url('/userinfo'), { headers });
}

/** The challenge's scheme and attributes. */
function challenge(res: Response): { scheme: string; params: Record<string, string> } {
  const header = res.headers.get('www-authenticate') ?? '';
  const [scheme] = header.split(' ');
  const params = Object.fromEntries(
    [...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
  );
  return { scheme: scheme!, params };
}

it('oauth4webapi: the code flow with DPoP, then userinfo with a proof for the token', async () => {
  const pub = await makeFlowClient(server(), { isPublic: true, firstParty: true });
  const c = await dpopClient(server(), pub.client.id, null);
  const { callback, verifier } = await authorize(server(), c, user.email);
  const tokens = await oauth.processAuthorizationCodeResponse(
    c.as,
    c.client,
    await exchangeCode(c, callback, verifier),
  );
  const claims = await userinfo(c, tokens.access_token);
  expect(claims.sub).toBe(user.id);
});

it('a bound token with the DPoP scheme and a matching proof: 200 (GET and POST)', async () => {
  const ok = await getUserinfo({
    authorization: `DPoP ${bound}`,
    dpop: await makeProof(key, url('/userinfo'), { htm: 'GET', accessToken: bound }),
  });
  expect(ok.status).toBe(200);
  expect(((await ok.json()) as { sub: string }).sub).toBe(user.id);
  const posted = await fetch(url('/userinfo'), {
    method: 'POST',
    headers: {
      authorization: `DPoP ${bound}`,
      dpop: await makeProof(key, url('/userinfo'), { accessToken: bound }),
    },
  });
  expect(posted.status).toBe(200);
});

it('a bound token sent as Bearer: 401 invalid_token with a DPoP challenge', async () => {
  const res = await getUserinfo({ authorization: `Bearer ${bound}` });
  expect(res.status).toBe(401);
  expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
  expect(challenge(res)).toEqual({
    scheme: 'DPoP',
    params: expect.objectContaining({ error: 'invalid_token', algs: 'RS256 PS256 ES256 EdDSA' }),
  });
});

it.each([
  ['no proof', async () => undefined],
  [
    'a proof for another token (ath)',
    () => makeProof(key, url('/userinfo'), { htm: 'GET', accessToken: 'other' }),
  ],
  ['a proof without ath', () => makeProof(key, url('/userinfo'), { htm: 'GET' })],
  [
    'a proof for another URL',
    () => makeProof(key, url('/token'), { htm: 'GET', accessToken: bound }),
  ],
  [
    'a proof for another method',
    () => makeProof(key, url('/userinfo'), { htm: 'POST', accessToken: bound }),
  ],
  [
    'a proof by another key',
    async () => makeProof(await proofKey(), url('/userinfo'), { htm: 'GET', accessToken: bound }),
  ],
])('%s: 401 invalid_dpop_proof with a DPoP challenge', async (_name, make) => {
  const proof = await make();
  const res = await getUserinfo({
    authorization: `DPoP ${bound}`,
    ...(proof === undefined ? {} : { dpop: proof }),
  });
  expect(res.status).toBe(401);
  expect(((await res.json()) as { error: string }).error).toBe('invalid_dpop_proof');
  expect(challenge(res)).toMatchObject({ scheme: 'DPoP', params: { error: 'invalid_dpop_proof' } });
});

it('a replayed proof: 401 invalid_dpop_proof', async () => {
  const proof = await makeProof(key, url('/userinfo'), { htm: 'GET', accessToken: bound });
  const headers = { authorization: `DPoP ${bound}`, dpop: proof };
  expect((await getUserinfo(headers)).status).toBe(200);
  const replay = await getUserinfo(headers);
  expect(replay.status).toBe(401);
  expect(challenge(replay).params.error).toBe('invalid_dpop_proof');
});

it('an unbound token with the DPoP scheme: 401 invalid_token (the scheme promises a binding)', async () => {
  const plain = (await passwordLogin(server(), service, user)).body.access_token as string;
  const res = await getUserinfo({
    authorization: `DPoP ${plain}`,
    dpop: await makeProof(key, url('/userinfo'), { htm: 'GET', accessToken: plain }),
  });
  expect(res.status).toBe(401);
  expect(challenge(res)).toMatchObject({ scheme: 'DPoP', params: { error: 'invalid_token' } });
  // As Bearer it is fine, as before.
  expect((await getUserinfo({ authorization: `Bearer ${plain}` })).status).toBe(200);
});

it('a forged token with the DPoP scheme: 401 invalid_token with a DPoP challenge', async () => {
  const res = await getUserinfo({ authorization: `DPoP ${bound.slice(0, -4)}AAAA` });
  expect(res.status).toBe(401);
  expect(challenge(res)).toMatchObject({ scheme: 'DPoP', params: { error: 'invalid_token' } });
});
