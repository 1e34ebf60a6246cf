import { claimsForScopes } from '../../src/tokens/claims';
import type { UserRecord } from '../../src/accounts/user-storage';

const user: UserRecord = {
  id: '00000000-0000-4000-8000-000000000001',
  email: 'ada@example.com',
  passwordHash: 'never-released',
  emailVerified: true,
  name: 'Ada Lovelace',
  givenName: 'Ada',
  familyName: null,
  preferredUsername: 'ada',
  picture: null,
  locale: 'en-GB',
  roles: ['admin'],
  disabled: false,
  verifyBeforeSignIn: false,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-02-01T00:00:00Z'),
};

describe('claimsForScopes', () => {
  it.each<[string, string[], Record<string, unknown>]>([
    ['no scopes', [], {}],
    ['openid alone releases nothing beyond sub', ['openid'], {}],
    [
      'profile (null values left out)',
      ['profile'],
      {
        name: 'Ada Lovelace',
        given_name: 'Ada',
        preferred_username: 'ada',
        locale: 'en-GB',
        updated_at: 1769904000,
      },
    ],
    ['email', ['email'], { email: 'ada@example.com', email_verified: true }],
    ['unknown scopes release nothing', ['api:read', 'roles'], {}],
  ])('%s', (_name, scopes, expected) => {
    expect(claimsForScopes(user, scopes)).toEqual(expected);
  });

  it('never releases the password hash, roles or the disabled flag', () => {
    const all = claimsForScopes(user, ['openid', 'profile', 'email', 'offline_access']);
    expect(JSON.stringify(all)).not.toContain('never-released');
    expect(all).not.toHaveProperty('roles');
  });
});
