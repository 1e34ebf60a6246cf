/**
 * Resource Owner Password Credentials grant (RFC 6749 §4.3). RFC 9700 §2.4 says it MUST NOT be
 * used in general; Tessera allows it only for first-party clients that list it (checked at
 * client creation and by the grant dispatcher), for login forms of the operator's own apps.
 *
 * Unknown user, wrong password and disabled user get the same invalid_grant (RFC 6749 §5.2)
 * after the same work (accounts/login.ts); too many failures get 429 with Retry-After.
 */
import { z } from 'zod';
import {
  checkPassword,
  EmailNotVerified,
  LoginRejected,
  LoginThrottled,
  type LoginDeps,
  type VerifiedPassword,
} from '../../accounts/login';
import { InvalidGrant, TooManyAttempts, UnauthorizedClient } from '../errors';
import { requestedResources, resourceParam } from '../resources';
import { issue, type Decision, type IssueDeps } from './issue';
import { grantScopes } from './scope';
import type { GrantContext, GrantModule, TokenResponse } from './types';

type PasswordDeps = IssueDeps & LoginDeps;

const params = z.object({
  username: z.string().min(1).max(254),
  password: z.string().min(1).max(1024),
  scope: z.string().optional(),
  resource: resourceParam,
});
type Params = z.infer<typeof params>;

async function passwordHandler(p: Params, ctx: GrantContext<PasswordDeps>): Promise<TokenResponse> {
  return issue(ctx, await validatePassword(p, ctx));
}

/**
 * The login's tokens are decided once the password matched (its time is the authentication
 * time) and stored by the login's own success statement, with the refresh-token family they
 * open: one round trip fewer on a path whose CPU is argon2id's.
 */
async function validatePassword(p: Params, ctx: GrantContext<PasswordDeps>): Promise<Decision> {
  // Defence in depth: the admin tools refuse the password grant for third-party clients.
  if (!ctx.client.firstParty)
    throw new UnauthorizedClient('The password grant is only available to first-party clients');
  const scopes = grantScopes(p.scope, ctx.client.scopes);
  // RFC 8707 §2: the resources named here are the login's grant, kept by its family.
  const resources = requestedResources(p.resource, ctx.client.audiences);
  const verified = await authenticate(p, ctx);
  return {
    kind: 'login',
    at: verified.at,
    grant: {
      user: verified.user,
      scopes,
      authTime: verified.at,
      amr: ['pwd'],
      sessionId: null,
      resources,
    },
    refresh: ctx.client.grantTypes.includes('refresh_token'),
    store: ({ opening }) => verified.succeed(opening ?? undefined),
    audience: resources.length > 0 ? resources : undefined,
  };
}

async function authenticate(p: Params, ctx: GrantContext<PasswordDeps>): Promise<VerifiedPassword> {
  try {
    return await checkPassword(ctx.services, {
      email: p.username,
      password: p.password,
      ip: ctx.ip,
      clientId: ctx.client.id,
      requestId: ctx.requestId,
    });
  } catch (err) {
    if (err instanceof LoginRejected)
      throw new InvalidGrant('Invalid username or password', { cause: err });
    if (err instanceof EmailNotVerified)
      throw new InvalidGrant('The email address of this account is not verified yet', {
        cause: err,
      });
    if (err instanceof LoginThrottled) {
      throw new TooManyAttempts('Too many failed login attempts; retry later', {
        cause: err,
        headers: { 'Retry-After': String(err.retryAfterSeconds) },
      });
    }
    throw err;
  }
}

export const passwordGrant = {
  grantType: 'password',
  params,
  handle: passwordHandler,
} satisfies GrantModule<typeof params, PasswordDeps>;
