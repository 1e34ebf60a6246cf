/** Types shared by the HTTP layer. */
import type { ParameterizedContext } from 'koa';
import type { Logger } from '../shared/logger';
import type { ClientRecord } from '../clients/client-storage';

export interface AppState {
  requestId: string;
  log: Logger;
  /** Parsed request parameters (form or JSON body, see middleware/body.ts). */
  params?: Record<string, string>;
  /** Values of the repeatable parameters (BodyOptions.repeatable, e.g. RFC 8707 `resource`), in order. */
  paramLists?: Record<string, string[]>;
  /** A JSON document body (middleware/body.ts jsonDocument): dynamic client registration. */
  document?: Record<string, unknown>;
  /** The authenticated client (oauth/client-auth/middleware.ts). */
  client?: ClientRecord;
  /** How it authenticated: a TokenEndpointAuthMethod (client_secret_basic, private_key_jwt, …). */
  clientAuthMethod?: string;
  /** The key of the request's valid DPoP proof (RFC 7638 thumbprint), at the token endpoint. */
  dpopJkt?: string | undefined;
  /** Why a request answered without throwing (an error page) was refused, for its log line. */
  rejection?: { error?: string; description: string };
  [key: string]: unknown;
}

export type AppContext = ParameterizedContext<AppState>;
