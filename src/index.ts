/**
 * Tessera's programmatic API (the package runs its TypeScript sources through tsx; there is no
 * separate build). Embedders start the server with the same functions `npm start` uses.
 */
export { loadConfig, ConfigError, type Config } from './config';
export { startServer, openServices, type RunningServer, type StartOptions } from './server';
export { createApp, requestListener } from './app';
export { createLogger } from './shared/logger';
export type { Services } from './services';
