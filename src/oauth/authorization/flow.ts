/**
 * What happens to a valid authorization request (OIDC Core §3.1.2.3–§3.1.2.6): decide whether
 * the user must (re-)authenticate, whether consent is needed, and otherwise issue the code.
 * The HTTP layer turns the outcome into a page or a redirect.
 */
import type { BrowserSessionRecord } from '../../sessions/browser-session-storage';
import type { Services } from '../../services';
import { randomToken, sha256 } from '../../shared/crypto';
import { ConsentRequired, LoginRequired } from '../errors';
import { AuthorizationRedirectError } from './errors';
import type { AuthorizationRequest } from './request';
import { successRedirect } from './response';

export type AuthorizationOutcome =
  | { kind: 'login' }
  | { kind: 'consent'; session: BrowserSessionRecord; scopes: string[] }
  | { kind: 'redirect'; url: string };

export type FlowServices = Pick<
  Services,
  'config' | 'clock' | 'consents' | 'authorizationCodes' | 'audit'
>;

export interface DecideOptions {
  /** The user authenticated within this very sign-in (prompt=login and max_age are satisfied). */
  freshLogin?: boolean;
  /** The user has just approved the consent page for this request. */
  consented?: boolean;
}

export async function decide(
  services: FlowServices,
  request: AuthorizationRequest,
  session: BrowserSessionRecord | null,
  options: DecideOptions = {},
): Promise<AuthorizationOutcome> {
  const noPrompt = request.prompt.has('none');
  if (!session || !isUsable(services, request, session, options)) {
    // OIDC Core §3.1.2.6: prompt=none must not show UI.
    if (noPrompt)
      throw new AuthorizationRedirectError(
        request.redirectUri,
        request.state,
        new LoginRequired('The user is not signed in'),
      );
    return { kind: 'login' };
  }
  if (!options.consented && (await needsConsent(services, request, session))) {
    if (noPrompt)
      throw new AuthorizationRedirectError(
        request.redirectUri,
        request.state,
        new ConsentRequired('The user has not approved this application'),
      );
    return { kind: 'consent', session, scopes: request.scopes };
  }
  return { kind: 'redirect', url: await issueCode(services, request, session) };
}

function isUsable(
  services: FlowServices,
  request: AuthorizationRequest,
  session: BrowserSessionRecord,
  options: DecideOptions,
): boolean {
  if (request.idTokenHint && request.idTokenHint.sub !== session.userId) return false;
  if (options.freshLogin) return true;
  if (request.prompt.has('login') || request.prompt.has('select_account')) return false;
  if (request.maxAge !== undefined) {
    const ageSeconds = (services.clock.now().getTime() - session.authTime.getTime()) / 1000;
    if (ageSeconds > request.maxAge) return false;
  }
  return true;
}

async function needsConsent(
  services: FlowServices,
  request: AuthorizationRequest,
  session: BrowserSessionRecord,
): Promise<boolean> {
  // First-party clients are trusted by the operator: no consent page.
  if (request.client.firstParty) return false;
  if (request.prompt.has('consent')) return true;
  const granted = await services.consents.grantedScopes(session.userId, request.client.id);
  if (request.scopes.some((s) => !granted.includes(s))) return true;
  // RFC 8707: resources the user has not approved for this client need the page too.
  if (request.resources.length === 0) return false;
  const resources = await services.consents.grantedResources(session.userId, request.client.id);
  return request.resources.some((r) => !resources.includes(r));
}

/**
 * RFC 6749 §4.1.2 / RFC 9700 §4.5: the code is 256 random bits, stored only as its SHA-256,
 * lives AUTHORIZATION_CODE_TTL seconds and is bound to everything the token endpoint checks.
 */
async function issueCode(
  services: FlowServices,
  request: AuthorizationRequest,
  session: BrowserSessionRecord,
): Promise<string> {
  const code = randomToken(32);
  const now = services.clock.now();
  await services.authorizationCodes.create({
    codeHash: sha256(code),
    clientId: request.client.id,
    userId: session.userId,
    sessionId: session.id,
    redirectUri: request.redirectUri,
    scope: request.scopes.join(' '),
    nonce: request.nonce ?? null,
    codeChallenge: request.codeChallenge ?? null,
    codeChallengeMethod: request.codeChallenge ? 'S256' : null,
    dpopJkt: request.dpopJkt ?? null,
    authTime: session.authTime,
    amr: session.amr,
    createdAt: now,
    expiresAt: new Date(now.getTime() + services.config.AUTHORIZATION_CODE_TTL * 1000),
    resources: request.resources,
  });
  await services.audit.record({
    type: 'authorization.code_issued',
    userId: session.userId,
    clientId: request.client.id,
    details: {
      scope: request.scopes.join(' '),
      ...(request.resources.length ? { resources: request.resources } : {}),
    },
  });
  return successRedirect(request.redirectUri, services.config.issuer, code, request.state);
}
