/** What `tessera token inspect` reports: its options, each check, the verdict. */
import type { JSONWebKeySet } from 'jose';
import type { FetchLike } from '../resource-server';

export interface InspectOptions {
  /** The issuer to verify against; its keys and /introspect are the only ones asked. */
  issuer?: string;
  audience?: string;
  /** Verify against this key set (a file's content) or JWKS URL instead of discovering it. */
  jwks?: { keys: JSONWebKeySet } | { url: string };
  /** Credentials for the issuer's /introspect; used only together with `issuer`. */
  introspection?: { clientId: string; clientSecret: string };
  fetch?: FetchLike;
  /** Milliseconds since the epoch. */
  now?: () => number;
  clockToleranceSeconds?: number;
}

export type CheckStatus = 'ok' | 'failed' | 'not_checked';

export interface Check {
  name:
    | 'signature'
    | 'typ'
    | 'issuer'
    | 'audience'
    | 'expiry'
    | 'not_before'
    | 'issued_at'
    | 'revocation';
  status: CheckStatus;
  detail: string;
}

export interface TimeClaim {
  claim: 'iat' | 'nbf' | 'exp';
  date: string;
  relative: string;
}

/**
 * `valid`: every check passed against keys the caller chose; `invalid`: some check failed;
 * `unverified`: decoded only (no issuer or key set given), nothing proves who signed it.
 */
export type Outcome = 'valid' | 'invalid' | 'unverified';

export interface TokenReport {
  valid: boolean;
  outcome: Outcome;
  /** One sentence: why the token is (not) acceptable. */
  verdict: string;
  header: Record<string, unknown> | null;
  payload: Record<string, unknown> | null;
  times: TimeClaim[];
  issuer: { value: string | null; source: 'option' | 'token_unverified' | 'none' };
  signature: {
    status: 'valid' | 'invalid' | 'not_checked';
    alg: string | null;
    kid: string | null;
    detail: string;
  };
  checks: Check[];
}
