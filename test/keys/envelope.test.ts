// Envelope encryption of private signing keys (keys/envelope.ts): AES-256-GCM under a KEK with
// the key's kid as associated data, several KEKs for rotation.
import { randomBytes } from 'node:crypto';
import { KekError, kekFingerprint, open, parseKeks, seal } from '../../src/keys/envelope';

const b64 = () => randomBytes(32).toString('base64');

describe('parseKeks', () => {
  it('reads comma-separated base64 keys, the first one first', () => {
    const [a, b] = [b64(), b64()];
    const keks = parseKeks(` ${a}, ${b} `);
    expect(keks.map((k) => k.key.toString('base64'))).toEqual([a, b]);
    expect(keks[0]!.id).toBe(kekFingerprint(Buffer.from(a, 'base64')));
  });

  it.each([
    ['', /no key given/],
    ['not base64!', /entry 1 is not base64/],
    [randomBytes(16).toString('base64'), /entry 1 must decode to 32 bytes.*got 16/],
  ])('refuses %j, naming the variable', (value, message) => {
    expect(() => parseKeks(value)).toThrow(KekError);
    expect(() => parseKeks(value)).toThrow(message);
    expect(() => parseKeks(value)).toThrow(/^KEY_ENCRYPTION_KEY/);
  });

  it('never puts the key itself in the fingerprint', () => {
    const key = randomBytes(32);
    const id = kekFingerprint(key);
    expect(id).toHaveLength(16);
    expect(key.toString('base64url')).not.toContain(id);
  });
});

describe('seal and open', () => {
  const [current, previous] = parseKeks(`${b64()},${b64()}`) as [
    ReturnType<typeof parseKeks>[0],
    ReturnType<typeof parseKeks>[0],
  ];
  const secret = Buffer.from('{"kty":"EC","d":"private"}');

  it('opens what it sealed, with the KEK named or by trying each', () => {
    const sealed = seal(current, 'kid-1', secret);
    expect(sealed.includes(secret)).toBe(false);
    expect(open([current], current.id, 'kid-1', sealed)).toEqual(secret);
    expect(open([previous, current], null, 'kid-1', sealed)).toEqual(secret);
  });

  it('uses a fresh IV per seal', () => {
    expect(seal(current, 'kid-1', secret).equals(seal(current, 'kid-1', secret))).toBe(false);
  });

  it('refuses a ciphertext moved to another key row (kid is associated data)', () => {
    const sealed = seal(current, 'kid-1', secret);
    expect(() => open([current], current.id, 'kid-2', sealed)).toThrow(/cannot be decrypted/);
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = seal(current, 'kid-1', secret);
    sealed[14]! ^= 1;
    expect(() => open([current], current.id, 'kid-1', sealed)).toThrow(KekError);
  });

  it('says which KEK is missing when the named one is not configured', () => {
    const sealed = seal(previous, 'kid-1', secret);
    expect(() => open([current], previous.id, 'kid-1', sealed)).toThrow(
      new RegExp(`encrypted with key-encryption key ${previous.id}, which is not configured`),
    );
  });
});
