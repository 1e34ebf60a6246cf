/**
 * The composition root: builds every service from the config and an open database. The HTTP
 * app, the CLI and the scripts all get their services from here, so they share one
 * implementation of everything (the key-rotation script calls the same key store the server uses).
 */
import type { Config } from './config';
import type { Database } from './db/database';
import { PasswordHasher } from './accounts/passwords';
import { resolveKeks } from './keys/kek-source';
import type { Kek } from './keys/envelope';
import { KeyStore } from './keys/key-store';
import { ClientKeys } from './clients/client-keys';
import { CachedClientLookup } from './oauth/client-auth/client-cache';
import { BackchannelLogout } from './oauth/logout/backchannel-logout';
import { LogoutDelivery } from './oauth/logout/delivery';
import { postgresRepositories, type Repositories } from './persistence/repositories';
import { systemClock, type Clock } from './shared/clock';
import type { Logger } from './shared/logger';
import { buildMailer, type Mailer } from './mail/mailer';

export interface Services extends Repositories {
  readonly config: Readonly<Config>;
  readonly db: Database;
  readonly log: Logger;
  readonly clock: Clock;
  /** Client look-ups for authentication, cached a few seconds (see oauth/client-auth/client-cache.ts). */
  readonly clientLookup: CachedClientLookup;
  /** Clients' public keys: inline, or fetched from their jwks_uri and cached (clients/client-keys.ts). */
  readonly clientKeys: ClientKeys;
  readonly keks: readonly Kek[];
  readonly keyStore: KeyStore;
  readonly passwords: PasswordHasher;
  /** Back-Channel Logout: queues logout tokens when sessions end (oauth/logout/). */
  readonly backchannelLogout: BackchannelLogout;
  /** Delivers the queued logout tokens; started and stopped with the server (server.ts). */
  readonly logoutDelivery: LogoutDelivery;
  /** Outgoing mail: SMTP_URL, or DATA_DIR/mail/ on the embedded default (mail/mailer.ts). */
  readonly mailer: Mailer;
}

export interface BuildOptions {
  clock?: Clock;
}

export function buildServices(
  config: Readonly<Config>,
  db: Database,
  log: Logger,
  options: BuildOptions = {},
): Services {
  const clock = options.clock ?? systemClock;
  const { keks } = resolveKeks({
    configured: config.KEY_ENCRYPTION_KEY,
    embedded: config.embedded,
    keysDir: config.KEYS_DIR,
  });
  const repositories = postgresRepositories(db);
  const keyStore = new KeyStore({
    repo: repositories.signingKeys,
    keks,
    algs: config.SIGNING_ALGS,
    refreshIntervalSeconds: config.KEY_REFRESH_INTERVAL,
    clock,
    log,
  });
  const logoutDelivery = new LogoutDelivery({
    repo: repositories.logoutDeliveries,
    clients: repositories.clients,
    keyStore,
    audit: repositories.audit,
    clock,
    log,
    config,
  });
  return {
    config,
    db,
    log,
    clock,
    ...repositories,
    clientLookup: new CachedClientLookup(repositories.clients, {
      ttlSeconds: 5,
      maxEntries: 1000,
      clock,
    }),
    clientKeys: new ClientKeys({ allowPrivate: config.OUTBOUND_ALLOW_PRIVATE, clock }),
    keks,
    keyStore,
    passwords: new PasswordHasher(
      {
        memoryCost: config.ARGON2_MEMORY_KIB,
        timeCost: config.ARGON2_TIME_COST,
        parallelism: config.ARGON2_PARALLELISM,
      },
      config.PASSWORD_HASH_CONCURRENCY,
    ),
    backchannelLogout: new BackchannelLogout({
      repo: repositories.logoutDeliveries,
      delivery: logoutDelivery,
      clock,
      config,
    }),
    logoutDelivery,
    mailer: buildMailer(config, log),
  };
}
