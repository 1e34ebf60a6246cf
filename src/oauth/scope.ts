/**
 * The one reading of a scope string (RFC 6749 §3.3): space-delimited scope-tokens, each taken
 * once, in the order given. parseScope checks a client's `scope` parameter (each token made of
 * %x21 / %x23-5B / %x5D-7E); splitScope reads a value this server stored or signed itself (a
 * code's, a refresh family's, an access token's scope), which was checked when it was granted.
 */
import { InvalidScope } from './errors';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_SCOPE_LENGTH = 2048;

/** The distinct tokens of a space-delimited list, in order; none for an absent or empty one. */
export function splitScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}

/** One scope-token as RFC 6749 §3.3 allows it: %x21 / %x23-5B / %x5D-7E. */
export function isScopeToken(token: string): boolean {
  return SCOPE_TOKEN.test(token);
}

/** Parses a client's scope parameter into distinct tokens, in request order; else invalid_scope. */
export function parseScope(raw: string): string[] {
  if (raw.length > MAX_SCOPE_LENGTH) throw new InvalidScope('scope is too long');
  const tokens = splitScope(raw);
  for (const t of tokens)
    if (!SCOPE_TOKEN.test(t)) throw new InvalidScope('scope contains an invalid character');
  return tokens;
}
