/** The inspector's checks of the claims a resource server judges: iss, aud, exp, nbf, iat. */
import { relative } from './durations';
import type { Check, TimeClaim, TokenReport } from './report';

export function issuerCheck(tokenIss: string | null, issuer: TokenReport['issuer']): Check {
  if (!tokenIss) return { name: 'issuer', status: 'failed', detail: 'the token has no iss claim' };
  if (issuer.source === 'token_unverified')
    return {
      name: 'issuer',
      status: 'not_checked',
      detail: `iss is ${tokenIss}; taken from the token itself, so not compared with anything (give --issuer)`,
    };
  return tokenIss === issuer.value
    ? { name: 'issuer', status: 'ok', detail: `iss is ${tokenIss}` }
    : {
        name: 'issuer',
        status: 'failed',
        detail: `iss is ${tokenIss}, but you expect ${issuer.value}: the token comes from another issuer`,
      };
}

export function audienceCheck(aud: unknown, expected: string | undefined): Check {
  const list =
    typeof aud === 'string'
      ? [aud]
      : Array.isArray(aud)
        ? aud.filter((a): a is string => typeof a === 'string')
        : [];
  if (!list.length)
    return {
      name: 'audience',
      status: 'failed',
      detail: 'the token has no aud claim; an API must refuse it (RFC 9068 §4)',
    };
  if (!expected)
    return {
      name: 'audience',
      status: 'not_checked',
      detail: `aud is ${list.join(', ')} (give --audience to check)`,
    };
  return list.includes(expected)
    ? { name: 'audience', status: 'ok', detail: `aud contains ${expected}` }
    : {
        name: 'audience',
        status: 'failed',
        detail: `aud is ${list.join(', ')}, which does not include ${expected}: the token was issued for a different API`,
      };
}

export function timeChecks(
  payload: Record<string, unknown>,
  now: number,
  tolerance: number,
): Check[] {
  const nowS = now / 1000;
  const checks: Check[] = [];
  const { exp, nbf, iat } = payload;
  if (typeof exp !== 'number')
    checks.push({ name: 'expiry', status: 'failed', detail: 'the token has no exp claim' });
  else if (exp <= nowS - tolerance)
    checks.push({
      name: 'expiry',
      status: 'failed',
      detail: `the token expired ${relative(exp * 1000 - now)}`,
    });
  else
    checks.push({
      name: 'expiry',
      status: 'ok',
      detail:
        exp <= nowS
          ? `expired ${relative(exp * 1000 - now)}, but within the ${tolerance} s clock tolerance`
          : `expires ${relative(exp * 1000 - now)}`,
    });
  if (typeof nbf === 'number') {
    checks.push(
      nbf > nowS + tolerance
        ? {
            name: 'not_before',
            status: 'failed',
            detail: `the token is not valid yet: nbf is ${relative(nbf * 1000 - now)}`,
          }
        : { name: 'not_before', status: 'ok', detail: 'nbf has passed' },
    );
  }
  if (typeof iat !== 'number')
    checks.push({ name: 'issued_at', status: 'failed', detail: 'the token has no iat claim' });
  else if (iat > nowS + tolerance)
    checks.push({
      name: 'issued_at',
      status: 'failed',
      detail: `iat is in the future (${relative(iat * 1000 - now)}): the issuer's clock or the token is wrong`,
    });
  return checks;
}

export function timeClaims(payload: Record<string, unknown>, now: number): TimeClaim[] {
  return (['iat', 'nbf', 'exp'] as const).flatMap((claim) => {
    const v = payload[claim];
    const ms = typeof v === 'number' ? v * 1000 : NaN;
    // Beyond ±8.64e15 ms a Date is invalid (ECMA-262 §21.4.1.1); a hostile token may say anything.
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return [];
    const rel = relative(ms - now);
    const words =
      claim === 'exp'
        ? ms > now
          ? `expires ${rel}`
          : `expired ${rel}`
        : claim === 'iat'
          ? `issued ${rel}`
          : ms > now
            ? `valid ${rel}`
            : `valid since ${rel}`;
    return [{ claim, date: new Date(ms).toISOString(), relative: words }];
  });
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
