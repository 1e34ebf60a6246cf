/**
 * Resource indicators (RFC 8707): a client names the protected resources (APIs) it wants an
 * access token for with `resource` — at /authorize and at /token, as often as it likes (§2) —
 * and the token's `aud` is then exactly those resources.
 *
 * - Each value is an absolute URI (RFC 3986 §4.3) without a fragment (§2). It must equal,
 *   character for character, one of the client's registered audiences: a client's audiences
 *   are its registered resources. Anything else is invalid_target (§2).
 * - What was granted — the resources of the authorization request (kept with the code) or of
 *   a password login (kept with the refresh-token family) — bounds every later token request:
 *   it may name a subset (narrowing, §2.2), never a resource outside the grant.
 * - Without `resource`: the grant's resources; a grant that named none stands for the client's
 *   default audience (all its audiences, or its own id when it has none: tokens/access-token.ts),
 *   within which a later request may still name any registered resource.
 * - Scopes are not per resource: the scopes granted apply to every resource in `aud`.
 */
import { z } from 'zod';
import { InvalidTarget } from './errors';

/** RFC 8707 §2: `resource` may be given more than once — the only parameter that may. */
export const REPEATABLE_PARAMS: readonly string[] = ['resource'];

/** At most this many resources per request (a client has at most 20 audiences). */
export const MAX_RESOURCES = 20;

/**
 * The `resource` parameter in a grant's or the authorization request's schema: every value the
 * client sent, in order (http/middleware/body.ts collects them); bounds are invalid_request.
 */
export const resourceParam = z.array(z.string().max(2000)).min(1).max(MAX_RESOURCES).optional();

/** scheme ":" then printable ASCII only: no spaces, no controls, no non-ASCII (RFC 3986 §2, §3.1). */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]*$/;

/**
 * RFC 8707 §2: the requested resources, each an absolute URI without a fragment, duplicates
 * dropped, in request order; undefined when `resource` was not sent.
 */
export function parseResources(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  for (const value of values) {
    if (!ABSOLUTE_URI.test(value) || !URL.canParse(value))
      throw new InvalidTarget(`resource must be an absolute URI: ${shown(value)}`);
    if (value.includes('#'))
      throw new InvalidTarget(`resource must not contain a fragment: ${shown(value)}`);
  }
  return [...new Set(values)];
}

/**
 * The resources an authorization request asks for (RFC 8707 §2), each registered for the
 * client; empty when it names none.
 */
export function requestedResources(
  values: readonly string[] | undefined,
  registered: readonly string[],
): string[] {
  const requested = parseResources(values) ?? [];
  checkRegistered(requested, registered);
  return requested;
}

/**
 * The resources an access token is for — its `aud` — or undefined for the client's default
 * audience. `requested` (parsed, or undefined when the request named none) must each be
 * registered for the client and, when the grant named resources, be among `granted`
 * (RFC 8707 §2.2: a token request may narrow the grant, never widen it). Without a request,
 * the granted resources the client still has registered; a grant none of whose resources is
 * registered any more yields no token (invalid_target), as a removed scope does.
 */
export function tokenResources(
  requested: readonly string[] | undefined,
  granted: readonly string[],
  registered: readonly string[],
): string[] | undefined {
  if (requested === undefined) {
    if (granted.length === 0) return undefined;
    const allowed = new Set(registered);
    const still = granted.filter((r) => allowed.has(r));
    if (still.length === 0)
      throw new InvalidTarget('The granted resources are no longer registered for this client');
    return still;
  }
  checkRegistered(requested, registered);
  if (granted.length > 0) {
    const grant = new Set(granted);
    const outside = requested.find((r) => !grant.has(r));
    if (outside !== undefined)
      throw new InvalidTarget(`resource was not granted: ${shown(outside)}`);
  }
  return [...requested];
}

/** §2: a resource the client has not registered (among its audiences) is invalid_target. */
function checkRegistered(requested: readonly string[], registered: readonly string[]): void {
  const allowed = new Set(registered);
  const unknown = requested.find((r) => !allowed.has(r));
  if (unknown !== undefined)
    throw new InvalidTarget(`resource is not registered for this client: ${shown(unknown)}`);
}

/** The value as the client sent it, printable and short enough for a description. */
function shown(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}
