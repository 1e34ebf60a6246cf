/**
 * Tessera's programmatic API. The package exports its TypeScript sources (run them with tsx or
 * bundle them); `npm start` runs an esbuild build of the same sources. Embedders start the
 * server with the same functions `npm start` uses.
 */
export { loadConfig, ConfigError, type Config } from './config';
export { startServer, openServices, type RunningServer, type StartOptions } from './server';
export { createApp, requestListener } from './app';
export { createLogger } from './shared/logger';
export type { Services } from './services';
