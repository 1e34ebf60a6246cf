/**
 * Scope parsing and checks (RFC 6749 §3.3): a space-delimited list of scope-tokens made of
 * %x21 / %x23-5B / %x5D-7E. Any requested scope the client (or, on refresh, the original
 * grant) does not allow is refused with invalid_scope rather than silently dropped, so a
 * client always knows exactly what it got.
 */
import { InvalidScope } from '../errors';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_SCOPE_LENGTH = 2048;

/** Parses a scope parameter into distinct tokens, in request order. */
export function parseScope(raw: string): string[] {
  if (raw.length > MAX_SCOPE_LENGTH) throw new InvalidScope('scope is too long');
  const tokens = raw.split(' ').filter((t) => t.length > 0);
  for (const t of tokens) if (!SCOPE_TOKEN.test(t)) throw new InvalidScope('scope contains an invalid character');
  return [...new Set(tokens)];
}

/**
 * The scopes to grant: the requested ones, which must all be within `allowed`; when the
 * request has no scope parameter, `fallback` (RFC 6749 §3.3: a documented default).
 */
export function grantScopes(requested: string | undefined, allowed: readonly string[], fallback: readonly string[] = allowed): string[] {
  if (requested === undefined) return [...fallback];
  const scopes = parseScope(requested);
  const permitted = new Set(allowed);
  const outside = scopes.filter((s) => !permitted.has(s));
  if (outside.length > 0) throw new InvalidScope(`scope not allowed: ${outside.slice(0, 5).join(' ').slice(0, 200)}`);
  return scopes;
}
