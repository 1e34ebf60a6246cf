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
import { PrismaAuditLog } from './persistence/prisma/audit';
import { PrismaAuthorizationCodeRepository } from './persistence/prisma/authorization-codes';
import { PrismaClientRepository } from './persistence/prisma/clients';
import { PrismaConsentRepository } from './persistence/prisma/consents';
import { PrismaBrowserSessionRepository } from './persistence/prisma/sessions';
import { PrismaRefreshTokenRepository } from './persistence/prisma/refresh-tokens';
import { PrismaLoginRepository } from './persistence/prisma/logins';
import { CachedClientLookup } from './oauth/client-auth/client-cache';
import { PrismaRevokedAccessTokenRepository } from './persistence/prisma/revoked-tokens';
import { PrismaSigningKeyRepository } from './persistence/prisma/signing-keys';
import { PrismaUserRepository } from './persistence/prisma/users';
import type { AuditLog, AuthorizationCodeRepository, BrowserSessionRepository, ClientRepository, ConsentRepository, LoginRepository, RefreshTokenRepository, RevokedAccessTokenRepository, SigningKeyRepository, UserRepository } from './persistence/types';
import { systemClock, type Clock } from './shared/clock';
import type { Logger } from './shared/logger';

export interface Services {
  readonly config: Readonly<Config>;
  readonly db: Database;
  readonly log: Logger;
  readonly clock: Clock;
  readonly users: UserRepository;
  readonly clients: ClientRepository;
  /** Client look-ups for authentication, cached a few seconds (see oauth/client-auth/client-cache.ts). */
  readonly clientLookup: CachedClientLookup;
  readonly refreshTokens: RefreshTokenRepository;
  /** Failed-login counters (accounts/login.ts). */
  readonly logins: LoginRepository;
  readonly audit: AuditLog;
  readonly signingKeys: SigningKeyRepository;
  readonly keks: readonly Kek[];
  readonly keyStore: KeyStore;
  readonly passwords: PasswordHasher;
  readonly revokedAccessTokens: RevokedAccessTokenRepository;
  /** Browser (SSO) sessions, remembered consents and authorization codes (code flow). */
  readonly browserSessions: BrowserSessionRepository;
  readonly consents: ConsentRepository;
  readonly authorizationCodes: AuthorizationCodeRepository;
}

export interface BuildOptions {
  clock?: Clock;
}

export function buildServices(config: Readonly<Config>, db: Database, log: Logger, options: BuildOptions = {}): Services {
  const clock = options.clock ?? systemClock;
  const { keks } = resolveKeks({ configured: config.KEY_ENCRYPTION_KEY, embedded: config.embedded, keysDir: config.KEYS_DIR });
  const signingKeys = new PrismaSigningKeyRepository(db.prisma);
  const clients = new PrismaClientRepository(db.prisma);
  return {
    config,
    db,
    log,
    clock,
    users: new PrismaUserRepository(db.prisma, db.sql),
    clients,
    clientLookup: new CachedClientLookup(clients, { ttlSeconds: 5, maxEntries: 1000, clock }),
    refreshTokens: new PrismaRefreshTokenRepository(db.prisma, db.sql),
    logins: new PrismaLoginRepository(db.sql, { asyncCommit: config.LOGIN_COUNTER_ASYNC_COMMIT }),
    audit: new PrismaAuditLog(db.prisma, db.sql),
    signingKeys,
    keks,
    keyStore: new KeyStore({ repo: signingKeys, keks, algs: config.SIGNING_ALGS, refreshIntervalSeconds: config.KEY_REFRESH_INTERVAL, clock, log }),
    revokedAccessTokens: new PrismaRevokedAccessTokenRepository(db.prisma, db.sql),
    passwords: new PasswordHasher({ memoryCost: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST, parallelism: config.ARGON2_PARALLELISM }, config.PASSWORD_HASH_CONCURRENCY),
    browserSessions: new PrismaBrowserSessionRepository(db.prisma),
    consents: new PrismaConsentRepository(db.prisma),
    authorizationCodes: new PrismaAuthorizationCodeRepository(db.prisma),
  };
}
