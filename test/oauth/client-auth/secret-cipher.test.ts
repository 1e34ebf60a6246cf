// The client_secret_jwt secret at rest (oauth/client-auth/secrets.ts): sealed under the first
// KEK, bound to its client, readable with any configured KEK, never in the clear.
import { randomBytes } from 'node:crypto';
import { KekError, parseKeks } from '../../../src/keys/envelope';
import { openClientSecret, sealClientSecret } from '../../../src/oauth/client-auth/secrets';

const kek = () => randomBytes(32).toString('base64');
const [a, b] = [kek(), kek()];
const keks = parseKeks(`${a},${b}`);
const secret = 'Xq3v-secret-value-with-enough-entropy-1234567';

it('round-trips, and the stored form shows neither the secret nor its encodings', () => {
  const stored = sealClientSecret(keks, 'client-1', secret);
  expect(stored).toMatch(new RegExp(`^v1\\.${keks[0]!.id}\\.[A-Za-z0-9_-]+$`));
  for (const form of [secret, Buffer.from(secret).toString('base64url')])
    expect(stored).not.toContain(form);
  expect(openClientSecret(keks, 'client-1', stored)).toBe(secret);
});

it('is bound to its client: another client id cannot open it', () => {
  const stored = sealClientSecret(keks, 'client-1', secret);
  expect(() => openClientSecret(keks, 'client-2', stored)).toThrow(KekError);
});

it('opens after a KEK rotation while the old KEK is still configured, not after', () => {
  const stored = sealClientSecret(parseKeks(b), 'client-1', secret);
  expect(openClientSecret(parseKeks(`${kek()},${b}`), 'client-1', stored)).toBe(secret);
  expect(() => openClientSecret(parseKeks(a), 'client-1', stored)).toThrow(KekError);
});

it('refuses a malformed ciphertext', () => {
  expect(() => openClientSecret(keks, 'client-1', 'plain-secret')).toThrow(KekError);
});
