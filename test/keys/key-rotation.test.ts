/**
 * Rotation without breaking a token (issue 3 §4–5): verified the way resource servers do it —
 * jose's createRemoteJWKSet (RS256 and ES256) and jwks-rsa + jsonwebtoken (RS256) fetching the
 * running server's JWKS over HTTP — with time moved by the test clock instead of sleeping.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import jwksClient from 'jwks-rsa';
import jwt from 'jsonwebtoken';
import { emergencyRetire, rotateSigningKeys } from '../../src/keys/key-rotation';
import type { SigningAlg } from '../../src/keys/algorithms';
import { startTestServer, type TestServer } from '../support/server';
import { ALGS, FAST_KEYS_ENV, keysIn, onlyKid, PUBLISH_WAIT, RETIRE_WAIT } from '../support/keys';

// Each start creates, migrates and keys a fresh database: slow on a loaded 2-core machine.
jest.setTimeout(180_000);

let server: TestServer;
/** A fresh server (fresh keys) for each describe block. */
function withServer(): void {
  beforeAll(async () => {
    server = await startTestServer({ env: FAST_KEYS_ENV });
  });
  afterAll(async () => {
    await server?.stop();
  });
}

const jwksUri = () => `${server.url}/.well-known/jwks.json`;

function claims(): JWTPayload {
  const now = server.clock.epochSeconds();
  return {
    iss: server.config.issuer,
    sub: 'user-1',
    aud: 'api',
    iat: now,
    exp: now + 60,
    jti: `t${now}${Math.random()}`,
  };
}

/** Verifies like a resource server with jose: algorithm pinned, at the given instant. */
async function joseVerify(
  jwks: ReturnType<typeof createRemoteJWKSet>,
  token: string,
  alg: SigningAlg,
  at: Date,
) {
  return jwtVerify(token, jwks, {
    algorithms: [alg],
    issuer: server.config.issuer,
    audience: 'api',
    typ: 'at+jwt',
    currentDate: at,
  });
}

/** Verifies like an Express API with jwks-rsa + jsonwebtoken (RS256 only). */
async function jwksRsaVerify(token: string, at: Date) {
  const client = jwksClient({ jwksUri: jwksUri(), cache: false });
  const { kid } = jwt.decode(token, { complete: true })!.header;
  const key = await client.getSigningKey(kid);
  return jwt.verify(token, key.getPublicKey(), {
    algorithms: ['RS256'],
    issuer: server.config.issuer,
    audience: 'api',
    clockTimestamp: Math.floor(at.getTime() / 1000),
  });
}

async function jwksKids(): Promise<string[]> {
  return ((await (await fetch(jwksUri())).json()) as { keys: { kid: string }[] }).keys.map(
    (k) => k.kid,
  );
}

describe.each(ALGS)('%s rotation', (alg) => {
  withServer();
  it('publishes a new key before it signs, keeps old tokens valid through the rotation, and drops them once the key is retired', async () => {
    const oldActive = await onlyKid(server.services, alg, 'active');
    const next = await onlyKid(server.services, alg, 'next');
    const issuedAt = server.clock.now();
    const before = await server.services.keyStore.sign(alg, 'at+jwt', claims());
    // A verifier that fetched the JWKS before the rotation and keeps its cache.
    const cachedJwks = createRemoteJWKSet(new URL(jwksUri()));
    await joseVerify(cachedJwks, before, alg, issuedAt);

    // The next key is published from the start, and may not sign until published long enough.
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldActive, next]));
    const early = await rotateSigningKeys(server.services, { algs: [alg] });
    expect(early.plan.algs[0]!.actions).toEqual([]);
    expect(early.plan.algs[0]!.nextEligibleAt!.getTime()).toBeGreaterThan(
      server.clock.now().getTime(),
    );
    expect(await onlyKid(server.services, alg, 'active')).toBe(oldActive);

    server.clock.advance(PUBLISH_WAIT);
    const step = await rotateSigningKeys(server.services, { algs: [alg] });
    expect(step.plan.algs[0]!.actions.map((a) => a.type)).toEqual(['demote', 'promote', 'create']);
    await server.services.keyStore.refresh();
    expect(await onlyKid(server.services, alg, 'active')).toBe(next);
    expect(await onlyKid(server.services, alg, 'retiring')).toBe(oldActive);

    const after = await server.services.keyStore.sign(alg, 'at+jwt', claims());
    const now = server.clock.now();
    // The pre-rotation cache already knew the new key; a fresh fetch knows both.
    await expect(joseVerify(cachedJwks, after, alg, now)).resolves.toMatchObject({
      protectedHeader: { kid: next },
    });
    const fresh = createRemoteJWKSet(new URL(jwksUri()));
    await expect(joseVerify(fresh, before, alg, now)).resolves.toMatchObject({
      protectedHeader: { kid: oldActive },
    });
    await expect(joseVerify(fresh, after, alg, now)).resolves.toBeDefined();
    if (alg === 'RS256') {
      await expect(jwksRsaVerify(before, now)).resolves.toMatchObject({ sub: 'user-1' });
      await expect(jwksRsaVerify(after, now)).resolves.toMatchObject({ sub: 'user-1' });
    }

    // Not due yet: the retiring key stays published.
    server.clock.advance(RETIRE_WAIT - 5);
    await rotateSigningKeys(server.services, { algs: [alg] });
    expect(await jwksKids()).toContain(oldActive);

    server.clock.advance(10);
    const retire = await rotateSigningKeys(server.services, { algs: [alg] });
    expect(retire.plan.algs[0]!.actions).toContainEqual({
      type: 'retire',
      alg,
      kid: oldActive,
      from: 'retiring',
      reason: 'expired',
    });
    await server.services.keyStore.refresh();
    const [retired] = (await keysIn(server.services, alg)).filter((k) => k.kid === oldActive);
    expect(retired).toMatchObject({
      state: 'retired',
      privateKeyCipher: null,
      retiredAt: expect.any(Date),
    });
    expect(await jwksKids()).not.toContain(oldActive);
    // Checked at issue time, so only the missing key (not expiry) can be the reason.
    await expect(
      joseVerify(createRemoteJWKSet(new URL(jwksUri())), before, alg, issuedAt),
    ).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    if (alg === 'RS256')
      await expect(jwksRsaVerify(before, issuedAt)).rejects.toMatchObject({
        name: 'SigningKeyNotFoundError',
      });
    await expect(
      server.services.keyStore.verify(before, {
        typ: 'at+jwt',
        issuer: server.config.issuer,
        clockToleranceSeconds: 0,
        currentDate: issuedAt,
      }),
    ).rejects.toMatchObject({ code: 'unknown_kid' });
  });
});

describe('dry run and emergency', () => {
  withServer();
  it('--dry-run plans without changing anything', async () => {
    server.clock.advance(PUBLISH_WAIT);
    const before = await keysIn(server.services);
    const plan = await rotateSigningKeys(server.services, { dryRun: true });
    expect(plan.applied).toBe(false);
    expect(plan.plan.algs.flatMap((a) => a.actions.map((x) => x.type))).toEqual(
      expect.arrayContaining(['demote', 'promote', 'create']),
    );
    expect(await keysIn(server.services)).toEqual(before);
  });

  it('retires a compromised active key at once, activates a replacement and warns about caches', async () => {
    await server.services.keyStore.refresh();
    const compromised = await onlyKid(server.services, 'ES256', 'active');
    const next = await onlyKid(server.services, 'ES256', 'next');
    const token = await server.services.keyStore.sign('ES256', 'at+jwt', claims());
    const result = await emergencyRetire(server.services, compromised);
    await server.services.keyStore.refresh();
    expect(result.plan.warnings.join(' ')).toMatch(/JWKS_MAX_AGE/);
    expect((await keysIn(server.services)).find((k) => k.kid === compromised)).toMatchObject({
      state: 'retired',
      privateKeyCipher: null,
    });
    expect(await onlyKid(server.services, 'ES256', 'active')).toBe(next);
    expect(await keysIn(server.services, 'ES256', 'next')).toHaveLength(1);
    expect(server.services.keyStore.activeKid('ES256')).toBe(next);
    await expect(
      joseVerify(createRemoteJWKSet(new URL(jwksUri())), token, 'ES256', server.clock.now()),
    ).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await expect(
      server.services.keyStore.verify(token, {
        typ: 'at+jwt',
        issuer: server.config.issuer,
        clockToleranceSeconds: 0,
      }),
    ).rejects.toMatchObject({ code: 'unknown_kid' });
  });

  it('refuses an unknown kid and changes nothing', async () => {
    const before = await keysIn(server.services);
    await expect(emergencyRetire(server.services, 'no-such-kid')).rejects.toMatchObject({
      name: 'RotationError',
    });
    expect(await keysIn(server.services)).toEqual(before);
  });
});
