// The sealed successor of a rotated refresh token (tokens/retry-seal.ts): only the rotated
// token's plaintext opens it, and only in its own row.
import { openSuccessor, sealSuccessor } from '../../src/tokens/retry-seal';
import { randomToken, sha256 } from '../../src/shared/crypto';

const rotated = randomToken();
const hash = sha256(rotated);
const successorId = '3f0c8a52-4c4e-4a53-9d2b-0d6c1f8f2e11';
const successor = randomToken();

it('opens with the rotated token, in the same place', () => {
  const sealed = sealSuccessor(rotated, hash, successorId, successor);
  expect(openSuccessor(rotated, hash, successorId, sealed)).toBe(successor);
});

it('holds neither token in the clear', () => {
  const sealed = sealSuccessor(rotated, hash, successorId, successor).toString('latin1');
  expect(sealed).not.toContain(successor);
  expect(sealed).not.toContain(rotated);
});

it('does not open with the stored hash or any other token', () => {
  const sealed = sealSuccessor(rotated, hash, successorId, successor);
  expect(openSuccessor(hash, hash, successorId, sealed)).toBeNull();
  expect(openSuccessor(randomToken(), hash, successorId, sealed)).toBeNull();
});

it('does not open when moved to another row or successor', () => {
  const sealed = sealSuccessor(rotated, hash, successorId, successor);
  expect(openSuccessor(rotated, sha256(randomToken()), successorId, sealed)).toBeNull();
  expect(openSuccessor(rotated, hash, '00000000-0000-4000-8000-000000000000', sealed)).toBeNull();
});

it('does not open when a bit changed or the seal was cut short', () => {
  const sealed = sealSuccessor(rotated, hash, successorId, successor);
  const flipped = Buffer.from(sealed);
  flipped[flipped.length - 1]! ^= 1;
  expect(openSuccessor(rotated, hash, successorId, flipped)).toBeNull();
  expect(openSuccessor(rotated, hash, successorId, sealed.subarray(0, 20))).toBeNull();
});
