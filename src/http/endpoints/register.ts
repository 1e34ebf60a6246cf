/**
 * Dynamic client registration over HTTP (RFC 7591 §3, RFC 7592 §2): POST /register and
 * GET/PUT/DELETE /register/{client_id}. Who may register is REGISTRATION's choice: with
 * `initial-token`, an operator's initial access token (`Authorization: Bearer`, RFC 7591 §3.1),
 * used up one registration at a time; with `open`, anyone, REGISTRATION_RATE_LIMIT times an
 * hour per client IP (rate-limiter-flexible, per instance). The protocol is in
 * oauth/registration/dynamic-registration.ts.
 */
import type { Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { missingTokenError, invalidTokenError } from '../../oauth/bearer';
import { OAuthError } from '../../oauth/errors';
import {
  deleteRegistration,
  readRegistration,
  registerClient,
  updateRegistration,
  type Registrant,
  type RegistrationServices,
} from '../../oauth/registration/dynamic-registration';
import type { RegistrationTokenRepository } from '../../oauth/registration/registration-token-storage';
import { hashOpaqueToken } from '../../tokens/opaque';
import type { AppContext, AppState } from '../types';

export interface RegistrationEndpoints {
  register: Middleware<AppState>;
  read: Middleware<AppState>;
  update: Middleware<AppState>;
  remove: Middleware<AppState>;
}

type Deps = RegistrationServices & { registrationTokens: RegistrationTokenRepository };

export function registrationEndpoints(
  services: Deps,
  mode: 'initial-token' | 'open',
): RegistrationEndpoints {
  const limiter = new RateLimiterMemory({
    points: services.config.REGISTRATION_RATE_LIMIT,
    duration: 3600,
  });

  /** Who is registering: an initial access token's holder, or (open) anyone within the limit. */
  async function registrant(ctx: AppContext): Promise<Registrant> {
    if (mode === 'open') {
      try {
        await limiter.consume(ctx.ip);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw new OAuthError(
          'invalid_request',
          429,
          'Too many registrations from this address; retry later',
          { headers: { 'Retry-After': String(retryAfter) } },
        );
      }
      return { mode: 'open' };
    }
    const token = bearer(ctx);
    if (!token) throw missingTokenError();
    const policy = await services.registrationTokens.use(
      hashOpaqueToken(token),
      services.clock.now(),
    );
    if (!policy) throw invalidTokenError('The initial access token is invalid, expired or used up');
    return { mode: 'initial-token', policy };
  }

  return {
    async register(ctx) {
      const who = await registrant(ctx);
      ctx.body = await registerClient(services, ctx.state.document ?? {}, who);
      ctx.status = 201;
    },
    async read(ctx) {
      ctx.body = await readRegistration(services, clientIdOf(ctx), bearer(ctx));
    },
    async update(ctx) {
      ctx.body = await updateRegistration(
        services,
        clientIdOf(ctx),
        bearer(ctx),
        ctx.state.document ?? {},
      );
    },
    async remove(ctx) {
      await deleteRegistration(services, clientIdOf(ctx), bearer(ctx));
      ctx.status = 204;
    },
  };
}

function clientIdOf(ctx: AppContext): string {
  return (ctx as AppContext & { params: Record<string, string> }).params.client_id ?? '';
}

/** The token of `Authorization: Bearer <token>`, if that is what was sent. */
function bearer(ctx: AppContext): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(ctx.get('authorization'));
  return match?.[1];
}
