/** Types shared by the HTTP layer. */
import type { ParameterizedContext } from 'koa';
import type { Logger } from '../shared/logger';

export interface AppState {
  requestId: string;
  log: Logger;
  /** Parsed request parameters (form or JSON body, see middleware/body.ts). */
  params?: Record<string, string>;
  [key: string]: unknown;
}

export type AppContext = ParameterizedContext<AppState>;
