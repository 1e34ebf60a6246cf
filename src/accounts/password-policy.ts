/**
 * New passwords (sign-up, reset) per NIST SP 800-63B §5.1.1.2: at least 8 characters, at most
 * 1,024 bytes (what argon2id is fed), no composition rules, and refused when it is a known
 * common or breached password or a trivial variant of one (zxcvbn-ts with its common
 * dictionaries: the password lists, keyboard walks, repeats and sequences), or made of the
 * user's own email or name.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_CHARACTERS = 8;
export const PASSWORD_MAX_BYTES = 1024;

let estimator: ZxcvbnFactory | undefined;

/** Null when the password may be used; otherwise the reason, in words for the user. */
export function passwordProblem(
  password: string,
  userInputs: readonly string[] = [],
): string | null {
  if ([...password].length < PASSWORD_MIN_CHARACTERS)
    return `Use at least ${PASSWORD_MIN_CHARACTERS} characters.`;
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES)
    return `Use at most ${PASSWORD_MAX_BYTES} bytes.`;
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  // zxcvbn's cost grows with the length; a password guessable at all is so in its first 100 characters.
  const inputs = userInputs
    .flatMap((i) => [i, i.split('@')[0]!, ...i.split(/[@.\s]+/)])
    .filter((i) => i.length > 2);
  const { score } = estimator.check(password.slice(0, 100), inputs);
  // Score 0–1: found in (or a trivial variant of) the common-password lists, or guessable in
  // under about a million tries.
  if (score < 2)
    return 'This password is too common or too easy to guess. Try a longer phrase of unrelated words.';
  return null;
}
