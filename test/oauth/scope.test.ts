/** The one scope parser (src/oauth/scope.ts, RFC 6749 §3.3); no server, no database. */
import { InvalidScope } from '../../src/oauth/errors';
import { parseScope, splitScope } from '../../src/oauth/scope';

describe('splitScope', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['openid', ['openid']],
    ['openid profile email', ['openid', 'profile', 'email']],
    ['  openid   profile ', ['openid', 'profile']],
    ['email openid email', ['email', 'openid']],
  ])('%p → %p', (scope, tokens) => {
    expect(splitScope(scope)).toEqual(tokens);
  });
});

describe('parseScope', () => {
  it('reads a scope parameter as splitScope does', () => {
    expect(parseScope(' profile openid profile ')).toEqual(['profile', 'openid']);
  });

  it.each([
    ['a double quote', 'openid "x"'],
    ['a backslash', 'read\\write'],
    ['a non-ASCII character', 'ünïcode'],
    ['a control character', 'openid\tprofile'],
    ['more than 2048 characters', 'a'.repeat(2049)],
  ])('refuses %s with invalid_scope', (_name, raw) => {
    expect(() => parseScope(raw)).toThrow(InvalidScope);
    try {
      parseScope(raw);
    } catch (err) {
      expect((err as InstanceType<typeof InvalidScope>).error).toBe('invalid_scope');
    }
  });
});
