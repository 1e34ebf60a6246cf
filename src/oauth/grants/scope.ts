/**
 * Scope checks of the grants (RFC 6749 §3.3; parsing: ../scope.ts). Any requested scope the client (or, on refresh, the original
 * grant) does not allow is refused with invalid_scope rather than silently dropped, so a
 * client always knows exactly what it got.
 */
import { InvalidScope } from '../errors';
import { parseScope } from '../scope';

/**
 * The scopes to grant: the requested ones, which must all be within `allowed`; when the
 * request has no scope parameter, `fallback` (RFC 6749 §3.3: a documented default).
 */
export function grantScopes(
  requested: string | undefined,
  allowed: readonly string[],
  fallback: readonly string[] = allowed,
): string[] {
  if (requested === undefined) return [...fallback];
  const scopes = parseScope(requested);
  const permitted = new Set(allowed);
  const outside = scopes.filter((s) => !permitted.has(s));
  if (outside.length > 0)
    throw new InvalidScope(`scope not allowed: ${outside.slice(0, 5).join(' ').slice(0, 200)}`);
  return scopes;
}
