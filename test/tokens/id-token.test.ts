/**
 * ID tokens checked the way a relying party must (OIDC Core §3.1.3.7): signature against the
 * JWKS with the expected alg, iss, aud = client_id, azp, exp/iat, nonce (when one was sent),
 * at_hash against the access token of the same response; claims follow the scopes.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { leftHalfHash } from '../../src/tokens/id-token';
import { startTestServer, type TestServer } from '../support/server';
import { makeClient, makeUser, passwordLogin, type TestClient } from '../support/fixtures';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** What a relying party does with an ID token; throws when any rule fails. */
async function validateAsRelyingParty(
  idToken: string,
  accessToken: string,
  c: TestClient,
  alg: 'RS256' | 'ES256',
  nonce?: string,
): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(idToken, jwks, {
    issuer: server.config.issuer,
    audience: c.client.id,
    algorithms: [alg],
    currentDate: server.clock.now(),
    requiredClaims: ['iat', 'exp', 'sub'],
  });
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (aud.length > 1 || payload.azp !== undefined) expect(payload.azp).toBe(c.client.id);
  const now = server.clock.epochSeconds();
  expect(payload.iat!).toBeLessThanOrEqual(now + 5);
  expect(payload.exp!).toBeGreaterThan(now);
  if (nonce !== undefined) expect(payload.nonce).toBe(nonce);
  // at_hash: base64url of the left half of SHA-256 of the access token (RS256/ES256).
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  expect(payload.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
  return payload;
}

describe('OIDC ID tokens', () => {
  it.each(['RS256', 'ES256'] as const)('%s: passes every relying-party check', async (alg) => {
    const c = await makeClient(server, { signingAlg: alg });
    const user = await makeUser(server, { name: 'Grace Hopper' });
    const res = await passwordLogin(server, c, user, { scope: 'openid profile email' });
    const payload = await validateAsRelyingParty(
      res.body.id_token as string,
      res.body.access_token as string,
      c,
      alg,
    );
    expect(payload).toMatchObject({
      sub: user.id,
      aud: c.client.id,
      azp: c.client.id,
      amr: ['pwd'],
      auth_time: expect.any(Number),
    });
    expect(payload.exp! - payload.iat!).toBe(server.config.ID_TOKEN_TTL);
  });

  it.each<[string, string, string[], string[]]>([
    ['openid only', 'openid', [], ['name', 'email', 'email_verified', 'updated_at']],
    ['profile', 'openid profile', ['name', 'updated_at'], ['email', 'email_verified']],
    ['email', 'openid email', ['email', 'email_verified'], ['name', 'updated_at']],
  ])('claims by scope: %s', async (_name, scope, present, absent) => {
    const c = await makeClient(server);
    const user = await makeUser(server, { name: 'Alan Turing' });
    const res = await passwordLogin(server, c, user, { scope });
    const payload = await validateAsRelyingParty(
      res.body.id_token as string,
      res.body.access_token as string,
      c,
      'RS256',
    );
    for (const claim of present) expect(payload).toHaveProperty(claim);
    for (const claim of absent) expect(payload).not.toHaveProperty(claim);
    if (present.includes('email')) expect(payload.email).toBe(user.email);
  });

  it('the refreshed ID token keeps the login: same sub and auth_time, new at_hash', async () => {
    const c = await makeClient(server);
    const user = await makeUser(server);
    const first = await passwordLogin(server, c, user, { scope: 'openid' });
    server.clock.advance(30);
    const res = await fetch(`${server.url}/refresh`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${c.client.id}:${c.secret}`).toString('base64')}`,
      },
      body: JSON.stringify({ refresh_token: first.body.refresh_token }),
    });
    const body = (await res.json()) as Record<string, string>;
    const a = await validateAsRelyingParty(
      first.body.id_token as string,
      first.body.access_token as string,
      c,
      'RS256',
    );
    const b = await validateAsRelyingParty(body.id_token!, body.access_token!, c, 'RS256');
    expect(b.sub).toBe(a.sub);
    expect(b.auth_time).toBe(a.auth_time);
    expect(b.at_hash).not.toBe(a.at_hash);
  });

  it('leftHalfHash matches the OIDC Core example construction', () => {
    const token = 'jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y';
    const full = createHash('sha256').update(token).digest();
    expect(leftHalfHash(token, 'RS256')).toBe(full.subarray(0, 16).toString('base64url'));
    expect(leftHalfHash(token, 'ES256')).toBe(leftHalfHash(token, 'RS256'));
  });
});
