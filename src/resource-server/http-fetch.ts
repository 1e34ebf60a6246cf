/**
 * Small HTTP helpers shared by discovery, the JWKS cache and introspection: bounded JSON
 * fetches (timeout, size cap, no redirects) and the freshness lifetime of a response
 * (RFC 9111 §4.2.1: `max-age` minus `Age`; `no-store`/`no-cache` mean "do not reuse").
 */
import { IssuerUnavailableError } from './errors';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface FetchedJson {
  status: number;
  body: unknown;
  headers: Headers;
}

/** Responses from the issuer are small; anything bigger is refused rather than buffered. */
export const MAX_BODY_BYTES = 256 * 1024;

export async function fetchJson(
  fetchFn: FetchLike,
  url: string,
  init: RequestInit & { timeoutMs: number; what: string },
): Promise<FetchedJson> {
  const { timeoutMs, what, ...rest } = init;
  let res: Response;
  try {
    // Redirects are not followed: the issuer's documents must be served where it says they are.
    res = await fetchFn(url, {
      ...rest,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new IssuerUnavailableError(`${what} could not be fetched`, err);
  }
  if (res.status === 304) return { status: 304, body: undefined, headers: res.headers };
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > MAX_BODY_BYTES) throw new IssuerUnavailableError(`${what} is too large`);
  const text = await res.text().catch((err: unknown) => {
    throw new IssuerUnavailableError(`${what} could not be read`, err);
  });
  if (text.length > MAX_BODY_BYTES) throw new IssuerUnavailableError(`${what} is too large`);
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch (err) {
    throw new IssuerUnavailableError(`${what} is not JSON`, err);
  }
  return { status: res.status, body, headers: res.headers };
}

/**
 * Seconds this response may be reused, or `undefined` when the server said nothing (the caller
 * then applies its default). `no-store`/`no-cache` give 0; `Age` is subtracted.
 */
export function freshnessSeconds(headers: Headers): number | undefined {
  const cc = (headers.get('cache-control') ?? '').toLowerCase();
  const directives = cc.split(',').map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
  const maxAge = directives.map((d) => /^max-age\s*=\s*"?(\d+)"?$/.exec(d)).find(Boolean);
  if (!maxAge) return undefined;
  const age = Number(headers.get('age') ?? '0');
  return Math.max(0, Number(maxAge[1]) - (Number.isFinite(age) ? age : 0));
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
