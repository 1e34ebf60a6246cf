/**
 * The contract every grant module follows (one module per grant, registered in index.ts):
 * its `grantType`, a zod schema for its own parameters, and a named handler that receives only
 * the validated parameters and the already authenticated client. A module states the services
 * it uses (its `D`, a Pick of Services) and conforms at compile time (`satisfies GrantModule`).
 */
import type { z } from 'zod';
import type { ClientRecord, GrantType } from '../../clients/client-storage';
import type { Services } from '../../services';
import type { Logger } from '../../shared/logger';

export interface GrantContext<D = Services> {
  /** The services the grant uses (the token endpoint passes them all). */
  services: D;
  client: ClientRecord;
  /** Client IP: the socket peer, or with TRUST_PROXY the X-Forwarded-For entry TRUST_PROXY_HOPS from the right. */
  ip: string;
  requestId: string;
  log: Logger;
  /**
   * The thumbprint of the key the request's DPoP proof was made with (RFC 9449 §5), verified
   * before dispatch; undefined without a proof. Access tokens issued are bound to it.
   */
  dpopJkt?: string | undefined;
}

/** RFC 6749 §5.1 successful token response (plus OIDC's id_token). */
export interface TokenResponse {
  access_token: string;
  /** DPoP for a token bound to a proof's key (RFC 9449 §5), else Bearer (RFC 6750). */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
  /** RFC 8693 §2.2.1: the type of the token a token exchange issued. */
  issued_token_type?: string;
}

export interface GrantModule<S extends z.ZodType = z.ZodType, D = Services> {
  grantType: GrantType;
  params: S;
  handle(params: z.infer<S>, ctx: GrantContext<D>): Promise<TokenResponse>;
}
