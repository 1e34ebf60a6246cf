/**
 * The token paths (refresh lookups and rotation, the introspection/userinfo user look-up) read a
 * user's profile, never the password hash: only the login path loads it. Runs on PGlite too.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PrismaRefreshTokenRepository } from '../../src/persistence/postgres/refresh-tokens';
import { PrismaRevokedAccessTokenRepository } from '../../src/persistence/postgres/revoked-tokens';
import { PrismaUserRepository } from '../../src/persistence/postgres/users';
import { createTestDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const later = new Date(Date.now() + 3_600_000);

/** A client and one login (refresh-token family) of `userId` for it; the login's token hash. */
async function login(clientId: string, userId: string, scope: string): Promise<string> {
  await t.db.prisma.client.create({ data: { id: clientId, name: clientId } });
  const hash = randomUUID();
  await new PrismaRefreshTokenRepository(t.db.prisma, t.db.sql).createFamily(
    { clientId, userId, scope, authTime: new Date(), amr: ['pwd'], expiresAt: later },
    {
      tokenHash: hash,
      scope,
      accessTokenJti: randomUUID(),
      accessTokenExpiresAt: later,
      idleExpiresAt: later,
    },
  );
  return hash;
}

const successor = () => ({
  id: randomUUID(),
  tokenHash: randomUUID(),
  accessTokenJti: randomUUID(),
  accessTokenExpiresAt: later,
  idleExpiresAt: later,
  retrySeal: randomBytes(60),
});

it('refresh lookups, rotation and the deny-list user look-up return the user without the password hash', async () => {
  const users = new PrismaUserRepository(t.db.prisma, t.db.sql);
  const user = await users.create({
    email: `${randomUUID()}@example.com`,
    passwordHash: '$argon2id$secret-hash',
    name: 'Ada',
  });
  expect((await users.findById(user.id))?.passwordHash).toBe('$argon2id$secret-hash'); // the login path still has it
  const hash = await login('profile-client', user.id, 'openid profile');
  const refreshTokens = new PrismaRefreshTokenRepository(t.db.prisma, t.db.sql);
  const { passwordHash: _hidden, ...profile } = user;

  const found = await refreshTokens.findByHash(hash);
  expect(found?.user).toEqual(profile);
  expect(found?.user).not.toHaveProperty('passwordHash');

  const rotation = await refreshTokens.rotateRefreshToken(
    hash,
    'profile-client',
    new Date(),
    successor(),
  );
  expect(rotation?.user).toEqual(profile);
  expect(rotation?.user).not.toHaveProperty('passwordHash');
  expect(rotation?.family).toEqual({
    id: found!.family.id,
    userId: user.id,
    sessionId: null,
    scope: 'openid profile',
    authTime: found!.family.authTime,
    amr: ['pwd'],
    resources: [],
  });
  expect(rotation?.rotated).toMatchObject({
    familyId: found!.family.id,
    parentId: found!.token.id,
    scope: 'openid profile',
    rotatedAt: null,
    revokedAt: null,
  });

  const state = await new PrismaRevokedAccessTokenRepository(
    t.db.prisma,
    t.db.sql,
  ).isRevokedWithUser(randomUUID(), user.id);
  expect(state).toEqual({ revoked: false, user: profile });
  expect(state.user).not.toHaveProperty('passwordHash');
});

it('rotate refuses, changing nothing, for another client, a disabled user or a rotated token', async () => {
  const users = new PrismaUserRepository(t.db.prisma, t.db.sql);
  const user = await users.create({ email: `${randomUUID()}@example.com`, passwordHash: 'x' });
  const hash = await login('refusal-client', user.id, 'openid');
  const refreshTokens = new PrismaRefreshTokenRepository(t.db.prisma, t.db.sql);

  expect(
    await refreshTokens.rotateRefreshToken(hash, 'another-client', new Date(), successor()),
  ).toBeNull();
  await users.setDisabled(user.id, true, new Date());
  expect(
    await refreshTokens.rotateRefreshToken(hash, 'refusal-client', new Date(), successor()),
  ).toBeNull();
  expect((await refreshTokens.findByHash(hash))?.token.rotatedAt).toBeNull();
  await users.setDisabled(user.id, false, new Date());
  expect(
    await refreshTokens.rotateRefreshToken(hash, 'refusal-client', new Date(), successor()),
  ).not.toBeNull();
  expect(
    await refreshTokens.rotateRefreshToken(hash, 'refusal-client', new Date(), successor()),
  ).toBeNull();
});
