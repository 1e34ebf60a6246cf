/**
 * The token inspector's logic (`tessera token inspect`): what a JWT says and, in plain words,
 * why it would or would not be accepted by a resource server. Pure apart from the HTTP calls
 * to the issuer (JWKS, introspection), which go through an injectable fetch.
 *
 * The verdict is the resource-server toolkit's own `verifyAccessToken` — the inspector never
 * says "valid" on its own judgement — and the signature is reported "valid" only after jose
 * verified it with the algorithm pinned to the JWK's `alg` (RFC 8725 §3.1).
 *
 * Trust comes only from the caller: keys are fetched from the `issuer` option (or the `jwks`
 * given), never from the token's own `iss`, which anyone can write — a token naming an
 * attacker's issuer would otherwise verify against the attacker's keys. Without either the
 * token is only decoded (outcome `unverified`), and client credentials go only to an issuer
 * the caller named.
 */
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import {
  AccessTokenError,
  introspect,
  IssuerKeys,
  normaliseTyp,
  verifyAccessToken,
} from '../resource-server';
import { FORBIDDEN_HEADERS } from '../resource-server/verify';
import { audienceCheck, issuerCheck, str, timeChecks, timeClaims } from './claim-checks';
import type { Check, InspectOptions, Outcome, TokenReport } from './report';

export type { Check, CheckStatus, InspectOptions, Outcome, TimeClaim, TokenReport } from './report';

export async function inspectToken(
  token: string,
  options: InspectOptions = {},
): Promise<TokenReport> {
  const now = options.now?.() ?? Date.now();
  const tolerance = options.clockToleranceSeconds ?? 30;
  token = token.trim();
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    return {
      valid: false,
      outcome: 'invalid',
      verdict:
        'This is not a signed JWT (three base64url parts with a JSON header and payload): it cannot be read.',
      header: null,
      payload: null,
      times: [],
      issuer: { value: options.issuer ?? null, source: options.issuer ? 'option' : 'none' },
      signature: {
        status: 'not_checked',
        alg: null,
        kid: null,
        detail: 'the token could not be decoded',
      },
      checks: [],
    };
  }

  const tokenIss = typeof payload.iss === 'string' ? payload.iss : null;
  const issuer = options.issuer
    ? { value: options.issuer, source: 'option' as const }
    : tokenIss
      ? { value: tokenIss, source: 'token_unverified' as const }
      : { value: null, source: 'none' as const };
  const keys = keySource(options);
  const checks: Check[] = [];

  const signature = await checkSignature(token, header, keys);
  checks.push({
    name: 'signature',
    status:
      signature.status === 'valid'
        ? 'ok'
        : signature.status === 'invalid'
          ? 'failed'
          : 'not_checked',
    detail: signature.detail,
  });
  const typ = typeof header.typ === 'string' ? header.typ : undefined;
  checks.push(
    typ && normaliseTyp(typ) === 'at+jwt'
      ? { name: 'typ', status: 'ok', detail: 'typ is at+jwt (an RFC 9068 access token)' }
      : {
          name: 'typ',
          status: 'failed',
          detail: typ
            ? `typ is "${typ}", not "at+jwt": ${normaliseTyp(typ) === 'jwt' ? 'this looks like an ID token, which must never be sent to an API' : 'this is not an access token'}`
            : 'the header has no typ; access tokens carry "at+jwt" (RFC 9068 §2.1)',
        },
  );
  checks.push(issuerCheck(tokenIss, issuer));
  checks.push(audienceCheck(payload.aud, options.audience));
  checks.push(...timeChecks(payload, now, tolerance));

  // The verdict comes from the same code the middleware runs.
  let verdictError: string | undefined;
  const firstFailure = checks.find((c) => c.status === 'failed');
  if (!keys) verdictError = firstFailure ? `${capitalise(firstFailure.detail)}.` : undefined;
  else if (options.issuer && tokenIss !== options.issuer)
    verdictError = `Its iss is ${tokenIss ?? '(none)'}, not the issuer you gave (${options.issuer}): it was not issued there.`;
  else {
    try {
      await verifyAccessToken(token, keys, {
        issuer: issuer.value ?? '',
        audience: options.audience ?? null,
        now: () => now,
        clockToleranceSeconds: tolerance,
      });
    } catch (err) {
      verdictError =
        err instanceof AccessTokenError
          ? `${capitalise(err.message)}.`
          : 'The token could not be verified.';
    }
  }
  // The secret goes only to the /introspect of an issuer the caller named, never to the token's iss.
  if (!verdictError && keys && options.introspection && options.issuer) {
    const revocation = await checkRevocation(token, keys, options);
    checks.push(revocation);
    if (revocation.status === 'failed')
      verdictError =
        'The issuer says the token is no longer active (revoked, or its client or user was disabled).';
  } else {
    const why = !options.introspection
      ? "not asked (give --issuer, --client-id and --client-secret to ask the issuer's /introspect)"
      : !options.issuer
        ? 'not asked: client credentials are sent only to an issuer you name (give --issuer)'
        : 'not asked: the token already fails the checks above';
    checks.push({ name: 'revocation', status: 'not_checked', detail: why });
  }

  const outcome: Outcome = verdictError !== undefined ? 'invalid' : keys ? 'valid' : 'unverified';
  let verdict: string;
  if (outcome === 'unverified') {
    verdict =
      'NOT VERIFIED: the token was only decoded. Nothing proves who signed it — anyone can write these claims, iss included. Give --issuer URL (or --jwks) to verify it.';
  } else if (outcome === 'invalid') verdict = `The token is NOT valid. ${verdictError}`;
  else {
    verdict = `The token is valid${options.audience ? ` for audience ${options.audience}.` : ', but its audience was not checked (give --audience).'}`;
    if (issuer.source === 'token_unverified')
      verdict +=
        ' Its signature was checked against the key set you gave; its issuer was not (give --issuer).';
  }
  return {
    valid: outcome === 'valid',
    outcome,
    verdict,
    header,
    payload,
    times: timeClaims(payload, now),
    issuer,
    signature: { ...signature, alg: str(header.alg), kid: str(header.kid) },
    checks,
  };
}

/** Keys to verify with: the ones the caller named, or none. Never the token's own iss. */
function keySource(options: InspectOptions): IssuerKeys | undefined {
  const common = {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  // With only a key set, verifyAccessToken is given the token's iss, so the issuer is not compared.
  const issuer = options.issuer ?? '';
  if (options.jwks && 'keys' in options.jwks)
    return new IssuerKeys({ issuer, jwks: options.jwks.keys, ...common });
  if (options.jwks) return new IssuerKeys({ issuer, jwksUri: options.jwks.url, ...common });
  return options.issuer ? new IssuerKeys({ issuer: options.issuer, ...common }) : undefined;
}

async function checkSignature(
  token: string,
  header: Record<string, unknown>,
  keys: IssuerKeys | undefined,
): Promise<{ status: 'valid' | 'invalid' | 'not_checked'; detail: string }> {
  const forbidden = FORBIDDEN_HEADERS.find((h) => h in header);
  if (forbidden)
    return {
      status: 'invalid',
      detail: `the header carries "${forbidden}", which would let the token pick its own key or rules; such tokens are always refused`,
    };
  if (header.alg === 'none')
    return { status: 'invalid', detail: 'alg is "none": the token is not signed at all' };
  if (typeof header.alg === 'string' && /^HS/i.test(header.alg))
    return {
      status: 'invalid',
      detail: `alg is ${header.alg} (a shared-secret MAC): Tessera never issues those; this is a forgery attempt (key confusion)`,
    };
  if (!keys)
    return {
      status: 'not_checked',
      detail:
        "not verified: no --issuer or --jwks was given, so no key was fetched (the token's own iss is not trusted for that)",
    };
  try {
    const allowed = await keys.algorithms();
    if (typeof header.alg !== 'string' || !allowed.includes(header.alg as never))
      return {
        status: 'invalid',
        detail: `alg ${String(header.alg)} is not one the issuer uses (${allowed.join(', ')})`,
      };
    if (typeof header.kid !== 'string')
      return { status: 'invalid', detail: 'the header names no key (kid)' };
    const key = await keys.key(header.kid);
    if (key.alg !== header.alg)
      return {
        status: 'invalid',
        detail: `the token says ${header.alg} but key ${key.kid} is a ${key.alg} key`,
      };
    await compactVerify(token, key.key, { algorithms: [key.alg] });
    return {
      status: 'valid',
      detail: `verified with key ${key.kid} (${key.alg}, pinned to the key's own alg)`,
    };
  } catch (err) {
    if (err instanceof AccessTokenError && err.reason === 'unknown_kid')
      return {
        status: 'invalid',
        detail: `key ${String(header.kid)} is not in the issuer's JWKS: it was retired, or the token was not issued there`,
      };
    if (err instanceof AccessTokenError) return { status: 'not_checked', detail: `${err.message}` };
    return {
      status: 'invalid',
      detail: 'the signature does not match: the token was altered or signed by someone else',
    };
  }
}

async function checkRevocation(
  token: string,
  keys: IssuerKeys,
  options: InspectOptions,
): Promise<Check> {
  try {
    const result = await introspect(
      token,
      keys,
      options.introspection!,
      options.fetch ? { fetch: options.fetch } : {},
    );
    return result.active
      ? {
          name: 'revocation',
          status: 'ok',
          detail: "the issuer's /introspect says the token is active (not revoked)",
        }
      : {
          name: 'revocation',
          status: 'failed',
          detail:
            "the issuer's /introspect says the token is NOT active: it was revoked (or its client/user was disabled)",
        };
  } catch (err) {
    return {
      name: 'revocation',
      status: 'not_checked',
      detail: `could not ask /introspect: ${(err as Error).message}`,
    };
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
