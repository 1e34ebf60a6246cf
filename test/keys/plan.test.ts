/**
 * The rotation planner's rules (pure: no database, no clock), one table row per situation.
 */
import {
  planEmergency,
  planRotation,
  type RotationMode,
  type RotationPolicy,
} from '../../src/keys/plan';
import type { KeyState, SigningKeyRecord } from '../../src/keys/signing-key-storage';

const NOW = new Date('2030-01-01T00:00:00Z');
const POLICY: RotationPolicy = {
  publishWaitSeconds: 700,
  retireWaitSeconds: 4000,
  rotationIntervalSeconds: 86_400,
  jwksMaxAgeSeconds: 600,
};
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

/** A key of `state`, published `publishedAgo` seconds ago (activated/retiring at the same time). */
function key(
  kid: string,
  state: KeyState,
  publishedAgo: number,
  extra: Partial<SigningKeyRecord> = {},
): SigningKeyRecord {
  const at = ago(publishedAgo);
  return {
    kid,
    alg: 'ES256',
    state,
    publicJwk: {},
    privateKeyCipher: Buffer.alloc(1),
    kekId: 'k',
    createdAt: at,
    updatedAt: at,
    publishedAt: at,
    activatedAt: state === 'active' ? at : null,
    retiringAt: null,
    retireAfter: null,
    retiredAt: null,
    ...extra,
  };
}

const summary = (keys: SigningKeyRecord[], mode: RotationMode) =>
  planRotation(keys, NOW, POLICY, mode, ['ES256']).algs[0]!.actions.map(
    (a) => `${a.type}:${'kid' in a ? a.kid : a.state}`,
  );

describe('planRotation', () => {
  it.each<[string, SigningKeyRecord[], RotationMode, string[]]>([
    [
      'empty table at start: an active and a next key at once',
      [],
      'start',
      ['create:active', 'create:next'],
    ],
    [
      'start leaves a healthy pair alone',
      [key('A', 'active', 9000), key('N', 'next', 9000)],
      'start',
      [],
    ],
    [
      'start without an active key promotes a long-enough published next',
      [key('N', 'next', 700)],
      'start',
      ['promote:N', 'create:next'],
    ],
    [
      'start without an active key and a too-young next creates an active',
      [key('N', 'next', 699)],
      'start',
      ['create:active'],
    ],
    ['start replaces a missing next', [key('A', 'active', 10)], 'start', ['create:next']],
    [
      'manual: eligible next is promoted, old active demoted, fresh next created',
      [key('A', 'active', 9000), key('N', 'next', 700)],
      'manual',
      ['demote:A', 'promote:N', 'create:next'],
    ],
    [
      'manual: a too-young next is not promoted',
      [key('A', 'active', 9000), key('N', 'next', 699)],
      'manual',
      [],
    ],
    [
      'auto: not promoted before the interval',
      [key('A', 'active', 86_399), key('N', 'next', 9000)],
      'auto',
      [],
    ],
    [
      'auto: promoted once the interval has passed',
      [key('A', 'active', 86_400), key('N', 'next', 9000)],
      'auto',
      ['demote:A', 'promote:N', 'create:next'],
    ],
    [
      'a retiring key is retired once retireAfter has passed',
      [
        key('A', 'active', 10),
        key('N', 'next', 10),
        key('R', 'retiring', 9000, { retireAfter: ago(1) }),
      ],
      'start',
      ['retire:R'],
    ],
    [
      'a retiring key stays until retireAfter',
      [
        key('A', 'active', 10),
        key('N', 'next', 10),
        key('R', 'retiring', 9000, { retireAfter: ago(-1) }),
      ],
      'manual',
      [],
    ],
    [
      'two active keys (never made by these rules): the older is demoted',
      [key('A1', 'active', 9000), key('A2', 'active', 100), key('N', 'next', 10)],
      'start',
      ['demote:A1'],
    ],
  ])('%s', (_name, keys, mode, expected) => {
    expect(summary(keys, mode)).toEqual(expected);
  });

  it('says when a too-young next key becomes eligible, and demotes with retireAfter = now + retire wait', () => {
    const waiting = planRotation(
      [key('A', 'active', 9000), key('N', 'next', 100)],
      NOW,
      POLICY,
      'manual',
      ['ES256'],
    ).algs[0]!;
    expect(waiting.nextEligibleAt).toEqual(new Date(NOW.getTime() + 600 * 1000));
    const step = planRotation(
      [key('A', 'active', 9000), key('N', 'next', 700)],
      NOW,
      POLICY,
      'manual',
      ['ES256'],
    ).algs[0]!;
    expect(step.actions[0]).toEqual({
      type: 'demote',
      alg: 'ES256',
      kid: 'A',
      retireAfter: new Date(NOW.getTime() + 4000 * 1000),
    });
  });
});

describe('planEmergency', () => {
  const emergency = (keys: SigningKeyRecord[], kid: string) =>
    planEmergency(keys, kid, NOW, POLICY);

  it.each<[string, SigningKeyRecord[], string, string[]]>([
    [
      'active key with a next: retire it, promote the next, create a next',
      [key('A', 'active', 9000), key('N', 'next', 9000)],
      'A',
      ['retire:A', 'promote:N', 'create:next'],
    ],
    [
      'active key without a next: retire it, create an active and a next',
      [key('A', 'active', 9000)],
      'A',
      ['retire:A', 'create:active', 'create:next'],
    ],
    [
      'next key: retire it, create a next',
      [key('A', 'active', 9000), key('N', 'next', 9000)],
      'N',
      ['retire:N', 'create:next'],
    ],
    [
      'retiring key: retire it',
      [key('A', 'active', 9000), key('N', 'next', 9000), key('R', 'retiring', 9000)],
      'R',
      ['retire:R'],
    ],
  ])('%s', (_name, keys, kid, expected) => {
    const plan = emergency(keys, kid);
    expect(plan.algs[0]!.actions.map((a) => `${a.type}:${'kid' in a ? a.kid : a.state}`)).toEqual(
      expected,
    );
    expect(plan.warnings[0]).toMatch(/JWKS_MAX_AGE \(600 s\)/);
  });

  it('warns when the replacement signs before it was published long enough', () => {
    expect(
      emergency([key('A', 'active', 9000), key('N', 'next', 10)], 'A').warnings.join(' '),
    ).toMatch(/reject its tokens until they refetch/);
  });

  it.each([
    ['an unknown kid', 'X'],
    ['a retired key', 'Z'],
  ])('refuses %s', (_name, kid) => {
    expect(() => emergency([key('A', 'active', 9000), key('Z', 'retired', 9000)], kid)).toThrow(
      /no published signing key/,
    );
  });
});
