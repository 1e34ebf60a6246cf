/**
 * Koa middleware for resource servers (APIs) that accept Tessera access tokens.
 *
 *   app.use(requireAccessToken({ issuer, audience }))           // 401 unless a valid token
 *   router.get('/reports', requireScopes('reports:read'), ...)   // 403 insufficient_scope
 *   router.post('/admin', requireRoles('admin'), ...)
 *
 * Responses follow RFC 6750 §3: `WWW-Authenticate: Bearer realm="…"` alone when no token was
 * sent (§3.1: no error information then), with `error="invalid_token"` (401),
 * `error="insufficient_scope"` and `scope="…"` (403) or `error="invalid_request"` (400),
 * plus the same `error`/`error_description` as a JSON body. With `resourceMetadata`, every
 * challenge also names the API's protected-resource metadata (RFC 9728 §5.1), from which a
 * client finds the authorization server to ask (./protected-resource.ts).
 *
 * DPoP-bound tokens (RFC 9449 §7) are accepted only as `Authorization: DPoP` with a valid proof
 * (dpop-binding.ts); their refusals answer with a `WWW-Authenticate: DPoP` challenge naming the
 * accepted proof algorithms (`algs`) and, for a missing nonce, a `DPoP-Nonce` header (§9).
 */
import type { Context, Middleware } from 'koa';
import { DPOP_ALGS } from './dpop';
import { dpopBinding, dpopCredentials, type ResourceDpopOptions } from './dpop-binding';
import { AccessTokenError, type BearerErrorCode } from './errors';
import type { FetchLike } from './http-fetch';
import { requireActive, type IntrospectionCredentials } from './introspection';
import { IssuerKeys } from './issuer-keys';
import {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  verifyAccessToken,
  type VerifiedAccessToken,
} from './verify';

/** What the middleware puts on `ctx.state`. */
export interface AccessTokenState {
  auth: VerifiedAccessToken;
}

export interface RequireAccessTokenOptions {
  /** The issuer URL, exactly as in the tokens' `iss` and the discovery document. */
  issuer: string;
  /** This API's identifier; tokens whose `aud` does not contain it are refused. Required. */
  audience: string | readonly string[];
  /** Scopes every request must carry (all of them). */
  requiredScopes?: readonly string[];
  /** 0–60 s of allowed clock skew for exp/nbf/iat (default 30). */
  clockToleranceSeconds?: number;
  /** When set, every token is also checked online at the issuer's /introspect (revocation). */
  introspection?: IntrospectionCredentials;
  /** Realm in WWW-Authenticate (default: the audience). */
  realm?: string;
  /**
   * URL of this API's protected-resource metadata (RFC 9728 §5.1), sent as `resource_metadata`
   * in every challenge: protectedResourceMetadataUrl(resource). Default: not sent.
   */
  resourceMetadata?: string;
  /** Minimum seconds between JWKS refetches caused by unknown `kid`s (default 30). */
  refetchCooldownSeconds?: number;
  fetch?: FetchLike;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /** Share one key cache between several middleware instances for the same issuer. */
  keys?: IssuerKeys;
  /**
   * Called when the issuer cannot be reached or answers nonsense (discovery, JWKS,
   * introspection); the request gets 503. Log `err.message` and `err.cause` here.
   */
  onIssuerError?: (err: AccessTokenError) => void;
  /**
   * DPoP proof checks for DPoP-bound tokens (RFC 9449 §7): algorithms, proof age, nonces,
   * the single-use store, the public URL. Bound tokens are always checked; these only tune it.
   */
  dpop?: ResourceDpopOptions;
}

export function requireAccessToken(
  options: RequireAccessTokenOptions,
): Middleware<AccessTokenState> {
  if (!options.issuer) throw new TypeError('requireAccessToken: issuer is required');
  const audiences =
    typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])];
  if (!audiences.length || audiences.some((a) => !a))
    throw new TypeError('requireAccessToken: audience is required (RFC 9068 §4)');
  const realm = options.realm ?? audiences[0]!;
  const resourceMetadata = checkedResourceMetadata(options.resourceMetadata);
  const keys =
    options.keys ??
    new IssuerKeys({
      issuer: options.issuer,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.refetchCooldownSeconds !== undefined
        ? { refetchCooldownSeconds: options.refetchCooldownSeconds }
        : {}),
    });
  const scopeCheck = options.requiredScopes?.length
    ? requireScopes(...options.requiredScopes)
    : undefined;
  const binding = dpopBinding(
    options.dpop ?? {},
    options.now ?? Date.now,
    options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
  );

  return async (ctx, next) => {
    if (resourceMetadata !== undefined) setResourceMetadata(ctx, resourceMetadata);
    try {
      const dpopToken = dpopCredentials(ctx);
      const token = dpopToken ?? bearerToken(ctx);
      if (token === undefined) return challenge(ctx, realm);
      const auth = await verifyAccessToken(token, keys, {
        issuer: options.issuer,
        audience: audiences,
        ...(options.clockToleranceSeconds !== undefined
          ? { clockToleranceSeconds: options.clockToleranceSeconds }
          : {}),
        ...(options.now ? { now: options.now } : {}),
      });
      await binding(ctx, token, dpopToken === undefined ? 'Bearer' : 'DPoP', auth);
      ctx.state.auth = auth;
      if (options.introspection)
        await requireActive(token, keys, options.introspection, options.fetch);
    } catch (err) {
      if (err instanceof AccessTokenError) {
        if (err.error === 'temporarily_unavailable') options.onIssuerError?.(err);
        return challenge(ctx, realm, err);
      }
      throw err;
    }
    setRealm(ctx, realm);
    if (scopeCheck) await (scopeCheck(ctx, next) as Promise<void>);
    else await next();
  };
}

/** 403 insufficient_scope unless the verified token carries every listed scope. */
export function requireScopes(...scopes: string[]): Middleware<AccessTokenState> {
  return async (ctx, next) => {
    const auth = authOf(ctx);
    const missing = scopes.filter((s) => !auth.scopes.includes(s));
    if (missing.length) {
      return challenge(
        ctx,
        realmOf(ctx),
        new AccessTokenError(
          'insufficient_scope',
          'insufficient_scope',
          `the token lacks the scope ${missing.join(' ')}`,
        ),
        scopes,
      );
    }
    await next();
  };
}

/** 403 insufficient_scope unless the token's RFC 9068 `roles` claim holds one of `roles`. */
export function requireRoles(...roles: string[]): Middleware<AccessTokenState> {
  return async (ctx, next) => {
    const auth = authOf(ctx);
    if (!roles.some((r) => auth.roles.includes(r))) {
      return challenge(
        ctx,
        realmOf(ctx),
        new AccessTokenError(
          'insufficient_scope',
          'missing_role',
          `the token lacks the role ${roles.join(' or ')}`,
        ),
      );
    }
    await next();
  };
}

/**
 * The token from `Authorization: Bearer <token>` (RFC 6750 §2.1), the only place we accept
 * it: query strings end up in logs and Referer headers (§5.3). Returns undefined when no
 * Bearer credentials were sent at all.
 */
export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const inQuery =
    typeof ctx.query.access_token === 'string' || Array.isArray(ctx.query.access_token);
  if (inQuery)
    throw new AccessTokenError(
      'invalid_request',
      'bad_request',
      'send the access token in the Authorization header, not the query string',
    );
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (match) return match[1];
  if (/^Bearer(\s|$)/i.test(header))
    throw new AccessTokenError(
      'invalid_request',
      'bad_request',
      'the Authorization header is not a valid Bearer credential',
    );
  return undefined; // another scheme: answer with our challenge, as for no credentials
}

const REALM_KEY = Symbol('tessera.realm');

function setRealm(ctx: Context, realm: string): void {
  (ctx.state as Record<symbol, string>)[REALM_KEY] = realm;
}

function realmOf(ctx: Context): string {
  return (ctx.state as Record<symbol, string>)[REALM_KEY] ?? 'api';
}

const RESOURCE_METADATA_KEY = Symbol('tessera.resourceMetadata');

function setResourceMetadata(ctx: Context, url: string): void {
  (ctx.state as Record<symbol, string>)[RESOURCE_METADATA_KEY] = url;
}

function resourceMetadataOf(ctx: Context): string | undefined {
  return (ctx.state as Record<symbol, string | undefined>)[RESOURCE_METADATA_KEY];
}

/** The URL goes into a quoted-string as it is, so it must be one that needs no escaping. */
function checkedResourceMetadata(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  if (!URL.canParse(url) || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(url))
    throw new TypeError('requireAccessToken: resourceMetadata must be an absolute URL');
  return url;
}

function authOf(ctx: Context): VerifiedAccessToken {
  const auth = (ctx.state as Partial<AccessTokenState>).auth;
  if (!auth) throw new Error('requireScopes/requireRoles must run after requireAccessToken');
  return auth;
}

/** Writes the RFC 6750 §3 challenge and the JSON error body. */
function challenge(
  ctx: Context,
  realm: string,
  err?: AccessTokenError,
  scopes?: readonly string[],
): void {
  const params = [`realm="${quoted(realm)}"`];
  if (err && err.error !== 'temporarily_unavailable') {
    params.push(`error="${err.error}"`, `error_description="${quoted(err.message)}"`);
    if (scopes?.length) params.push(`scope="${quoted(scopes.join(' '))}"`);
  }
  const scheme = err?.scheme ?? 'Bearer';
  // RFC 9449 §7.1: a DPoP challenge names the proof algorithms accepted.
  if (scheme === 'DPoP') params.push(`algs="${DPOP_ALGS.join(' ')}"`);
  if (err?.nonce) ctx.set('DPoP-Nonce', err.nonce);
  const resourceMetadata = resourceMetadataOf(ctx);
  if (resourceMetadata !== undefined) params.push(`resource_metadata="${resourceMetadata}"`);
  ctx.status = err?.status ?? 401;
  if (ctx.status !== 503) ctx.set('WWW-Authenticate', `${scheme} ${params.join(', ')}`);
  else ctx.set('Retry-After', '30');
  ctx.set('Cache-Control', 'no-store');
  // With no token sent, RFC 6750 §3.1 says to give no error code; the body only explains.
  ctx.body = err
    ? { error: err.error satisfies BearerErrorCode, error_description: err.message }
    : { error_description: 'this resource requires an access token (Authorization: Bearer)' };
}

/** RFC 6750 §3: attribute values use %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash). */
function quoted(value: string): string {
  return value.replace(/[^\x20-\x7e]|["\\]/g, '').slice(0, 200);
}
