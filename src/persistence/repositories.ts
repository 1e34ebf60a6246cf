/**
 * The persister: every repository, each an interface owned by the domain module that uses it
 * (accounts/, clients/, keys/, tokens/, sessions/, oauth/authorization/, observability/),
 * implemented here on PostgreSQL (postgres/: Prisma's client and raw SQL through the pg
 * executor). Prisma's generated types never leave postgres/.
 */
import type { LoginRepository } from '../accounts/login-storage';
import type { UserRepository } from '../accounts/user-storage';
import type { EmailTokenRepository } from '../accounts/email-token-storage';
import type { ClientRepository } from '../clients/client-storage';
import type { Database } from '../db/database';
import type { SigningKeyRepository } from '../keys/signing-key-storage';
import type { AuthorizationCodeRepository } from '../oauth/authorization/code-storage';
import type { ConsentRepository } from '../oauth/authorization/consent-storage';
import type { AuditLog } from '../observability/audit-log';
import type { BrowserSessionRepository } from '../sessions/browser-session-storage';
import type { RevokedAccessTokenRepository } from '../tokens/access-token-storage';
import type { RefreshTokenRepository } from '../tokens/refresh-token-storage';
import type { UsedJtiRepository } from '../oauth/replay/used-jti-storage';
import type { PushedRequestRepository } from '../oauth/authorization/pushed-request-storage';
import type { RegistrationTokenRepository } from '../oauth/registration/registration-token-storage';
import type { LogoutDeliveryRepository } from '../oauth/logout/delivery-storage';
import type { DeviceAuthorizationRepository } from '../oauth/device/device-storage';
import { PrismaAuditLog } from './postgres/audit';
import { PrismaAuthorizationCodeRepository } from './postgres/authorization-codes';
import { PrismaClientRepository } from './postgres/clients';
import { PrismaConsentRepository } from './postgres/consents';
import { PrismaLoginRepository } from './postgres/logins';
import { PrismaRefreshTokenRepository } from './postgres/refresh-tokens';
import { PrismaRevokedAccessTokenRepository } from './postgres/revoked-tokens';
import { PrismaBrowserSessionRepository } from './postgres/sessions';
import { PrismaSigningKeyRepository } from './postgres/signing-keys';
import { PrismaUserRepository } from './postgres/users';
import { PostgresUsedJtiRepository } from './postgres/used-jtis';
import { PrismaPushedRequestRepository } from './postgres/pushed-requests';
import { PrismaRegistrationTokenRepository } from './postgres/registration-tokens';
import { PrismaLogoutDeliveryRepository } from './postgres/logout-deliveries';
import { PrismaDeviceAuthorizationRepository } from './postgres/device-authorizations';
import { PrismaEmailTokenRepository } from './postgres/email-tokens';

export interface Repositories {
  readonly users: UserRepository;
  readonly clients: ClientRepository;
  readonly refreshTokens: RefreshTokenRepository;
  /** Failed-login counters (accounts/login.ts). */
  readonly logins: LoginRepository;
  readonly audit: AuditLog;
  readonly signingKeys: SigningKeyRepository;
  readonly revokedAccessTokens: RevokedAccessTokenRepository;
  /** Browser (SSO) sessions, remembered consents and authorization codes (code flow). */
  readonly browserSessions: BrowserSessionRepository;
  readonly consents: ConsentRepository;
  readonly authorizationCodes: AuthorizationCodeRepository;
  /** Single-use JWT identifiers (client assertions, DPoP proofs). */
  readonly usedJtis: UsedJtiRepository;
  /** Pushed authorization requests (RFC 9126). */
  readonly pushedRequests: PushedRequestRepository;
  /** Initial access tokens for dynamic client registration (RFC 7591). */
  readonly registrationTokens: RegistrationTokenRepository;
  /** Clients of each browser session and the outbox of logout tokens (Back-Channel Logout). */
  readonly logoutDeliveries: LogoutDeliveryRepository;
  /** Device authorization requests (RFC 8628). */
  readonly deviceAuthorizations: DeviceAuthorizationRepository;
  /** Single-use links sent by email and sign-up invitations (accounts/). */
  readonly emailTokens: EmailTokenRepository;
}

/** Every repository on the open database. */
export function postgresRepositories(db: Database): Repositories {
  return {
    users: new PrismaUserRepository(db.prisma, db.sql),
    clients: new PrismaClientRepository(db.prisma),
    refreshTokens: new PrismaRefreshTokenRepository(db.prisma, db.sql),
    logins: new PrismaLoginRepository(db.sql),
    audit: new PrismaAuditLog(db.prisma, db.sql),
    signingKeys: new PrismaSigningKeyRepository(db.prisma),
    revokedAccessTokens: new PrismaRevokedAccessTokenRepository(db.prisma, db.sql),
    browserSessions: new PrismaBrowserSessionRepository(db.prisma),
    consents: new PrismaConsentRepository(db.prisma),
    authorizationCodes: new PrismaAuthorizationCodeRepository(db.prisma),
    usedJtis: new PostgresUsedJtiRepository(db.sql),
    pushedRequests: new PrismaPushedRequestRepository(db.prisma),
    registrationTokens: new PrismaRegistrationTokenRepository(db.prisma),
    logoutDeliveries: new PrismaLogoutDeliveryRepository(db.prisma),
    deviceAuthorizations: new PrismaDeviceAuthorizationRepository(db.prisma, db.sql),
    emailTokens: new PrismaEmailTokenRepository(db.prisma),
  };
}
