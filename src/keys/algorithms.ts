/** The JWS algorithms Tessera signs with (RFC 7518 §3.3 RS256, §3.4 ES256); nothing else is accepted. */

export type SigningAlg = 'RS256' | 'ES256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'ES256'];
