/**
 * Resource Owner Password Credentials grant (RFC 6749 §4.3). RFC 9700 §2.4 says it MUST NOT be
 * used in general; Tessera allows it only for first-party clients that list it (checked at
 * client creation and by the grant dispatcher), for login forms of the operator's own apps.
 *
 * Unknown user, wrong password and disabled user get the same invalid_grant (RFC 6749 §5.2)
 * after the same work (accounts/login.ts); too many failures get 429 with Retry-After.
 */
import { z } from 'zod';
import { LoginRejected, LoginThrottled, verifyLogin } from '../../accounts/login';
import { InvalidGrant, TooManyAttempts, UnauthorizedClient } from '../errors';
import { issuePrepared, prepareLogin, type PreparedLogin } from './issue';
import { grantScopes } from './scope';
import { defineGrant } from './types';

export const passwordGrant = defineGrant({
  grantType: 'password',
  params: z.object({
    username: z.string().min(1).max(254),
    password: z.string().min(1).max(1024),
    scope: z.string().optional(),
  }),
  async handle(params, ctx) {
    // Defence in depth: the admin tools refuse the password grant for third-party clients.
    if (!ctx.client.firstParty) throw new UnauthorizedClient('The password grant is only available to first-party clients');
    const scopes = grantScopes(params.scope, ctx.client.scopes);
    // The tokens are decided once the password matched (its time is the authentication time),
    // inside the login, so that the refresh-token family the login opens is stored by the
    // login's own success statement: one round trip fewer on a path whose CPU is argon2id's.
    let prepared: PreparedLogin | undefined;
    const prepare = (authTime: Date) => (prepared = prepareLogin(ctx, { scopes, authTime, amr: ['pwd'], withRefreshToken: ctx.client.grantTypes.includes('refresh_token') }));
    let user;
    try {
      user = await verifyLogin(
        ctx.services,
        { email: params.username, password: params.password, ip: ctx.ip, clientId: ctx.client.id, requestId: ctx.requestId },
        { openFamily: (verifiedAt) => prepare(verifiedAt).refresh?.opening },
      );
    } catch (err) {
      if (err instanceof LoginRejected) throw new InvalidGrant('Invalid username or password', { cause: err });
      if (err instanceof LoginThrottled) {
        throw new TooManyAttempts('Too many failed login attempts; retry later', { cause: err, headers: { 'Retry-After': String(err.retryAfterSeconds) } });
      }
      throw err;
    }
    return issuePrepared(ctx, prepared ?? prepare(ctx.services.clock.now()), user);
  },
});
