/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for an API that accepts Tessera tokens: the
 * document that tells a client which authorization servers issue tokens for this API and how
 * to present them, served at the API's well-known URL, and that URL for the
 * `resource_metadata` parameter of the API's challenges (§5.1, see requireAccessToken).
 *
 *   const metadata = { resource: 'https://api.example.com', authorizationServers: [issuer] };
 *   app.use(protectedResourceMetadata(metadata));
 *   const auth = requireAccessToken({
 *     issuer, audience: metadata.resource,
 *     resourceMetadata: protectedResourceMetadataUrl(metadata.resource),
 *   });
 *
 * A client that got a 401 reads the URL from the challenge, fetches this document, checks that
 * its `resource` is the API it called (§3.3), and asks one of the `authorization_servers` for a
 * token with `resource` set to it (RFC 8707) — the flow MCP clients follow.
 */
import type { Context, Middleware } from 'koa';

/** RFC 9728 §3: the well-known URI suffix. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

const DEFAULT_MAX_AGE_SECONDS = 3600;

export interface ProtectedResourceMetadataOptions {
  /**
   * This API's resource identifier (§1.2): an https URL without query or fragment (http only on
   * a loopback host, for development). Clients send it as `resource`, tokens carry it in `aud`,
   * so register it as an audience of the clients that call the API.
   */
  resource: string;
  /** Issuer identifiers of the authorization servers whose tokens this API accepts (§2). */
  authorizationServers: readonly string[];
  /** Scopes this API understands (§2 `scopes_supported`); omitted when not given. */
  scopesSupported?: readonly string[];
  /** Human-readable name of the API (§2 `resource_name`). */
  resourceName?: string;
  /** URL of the API's documentation for developers (§2 `resource_documentation`). */
  resourceDocumentation?: string;
  /** Seconds clients and caches may keep the document (default 3600). */
  maxAgeSeconds?: number;
}

/** The metadata document (RFC 9728 §2), as served. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  /** Only `header`: requireAccessToken accepts tokens in the Authorization header alone. */
  bearer_methods_supported: ['header'];
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
}

/**
 * RFC 9728 §3.1: the metadata URL of a resource identifier — the well-known suffix inserted
 * between the host and the path (`https://api.example.com/v1` →
 * `https://api.example.com/.well-known/oauth-protected-resource/v1`); a bare `/` path is dropped.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = resourceUrl(resource, 'protectedResourceMetadataUrl');
  return `${url.origin}${wellKnownPath(url)}`;
}

/** The document for `options`, checked once (throws TypeError naming the bad option). */
export function buildProtectedResourceMetadata(
  options: ProtectedResourceMetadataOptions,
): ProtectedResourceMetadata {
  const where = 'protectedResourceMetadata';
  resourceUrl(options.resource, where);
  const servers = [...(options.authorizationServers ?? [])];
  if (servers.length === 0 || servers.some((s) => !URL.canParse(s)))
    throw new TypeError(`${where}: authorizationServers must list issuer URLs`);
  if (options.resourceDocumentation !== undefined && !URL.canParse(options.resourceDocumentation))
    throw new TypeError(`${where}: resourceDocumentation must be a URL`);
  return {
    resource: options.resource,
    authorization_servers: servers,
    bearer_methods_supported: ['header'],
    ...(options.scopesSupported?.length ? { scopes_supported: [...options.scopesSupported] } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation
      ? { resource_documentation: options.resourceDocumentation }
      : {}),
  };
}

/**
 * Koa middleware answering GET (and HEAD) on the resource's well-known path (§3.1) with its
 * metadata as JSON — public, cacheable, readable from any origin (it holds nothing secret, and
 * browser-based clients discover with it); every other request passes through.
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): Middleware {
  const document = buildProtectedResourceMetadata(options);
  const path = wellKnownPath(new URL(options.resource));
  const maxAge = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  if (!Number.isInteger(maxAge) || maxAge < 0)
    throw new TypeError('protectedResourceMetadata: maxAgeSeconds must be a non-negative integer');
  const body = JSON.stringify(document);
  return async (ctx: Context, next) => {
    if (ctx.path !== path) {
      await next();
      return;
    }
    ctx.set('Access-Control-Allow-Origin', '*');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    ctx.type = 'application/json';
    ctx.body = body;
  };
}

/** §3.1: the well-known suffix, then the identifier's path unless it is just `/`. */
function wellKnownPath(url: URL): string {
  return url.pathname === '/'
    ? PROTECTED_RESOURCE_WELL_KNOWN
    : `${PROTECTED_RESOURCE_WELL_KNOWN}${url.pathname}`;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * §1.2: "a URL that uses the https scheme and has no fragment component"; a query (which it
 * SHOULD NOT have) is refused too, so the well-known URL is the one §3.1 describes.
 */
function resourceUrl(resource: string, where: string): URL {
  const url = URL.canParse(resource) ? new URL(resource) : undefined;
  const secure =
    url?.protocol === 'https:' || (url?.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  if (!url || !secure || url.username || url.password || /[?#]/.test(resource))
    throw new TypeError(
      `${where}: resource must be an https URL (http only on a loopback host) without credentials, query or fragment`,
    );
  return url;
}
