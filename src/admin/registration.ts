/**
 * Initial access tokens for dynamic client registration (RFC 7591 §3.1), shared by the CLI
 * (`tessera registration create-token`) and, later, the admin API: 256 random bits, printed once,
 * stored as a SHA-256 with its number of uses, its expiry and its policy.
 */
import { randomUUID } from 'node:crypto';
import { GRANT_TYPES, type GrantType } from '../clients/client-storage';
import type { RegistrationPolicy } from '../oauth/registration/registration-token-storage';
import { isScopeToken } from '../oauth/scope';
import type { Services } from '../services';
import { newOpaqueToken } from '../tokens/opaque';
import { AdminError } from './users';

export interface InitialTokenInput {
  /** Registrations it allows; undefined: any number until it expires. */
  maxUses?: number;
  /** Seconds it lives; undefined: until used up. */
  expiresInSeconds?: number;
  policy?: RegistrationPolicy;
}

export interface IssuedInitialToken {
  token: string;
  maxUses: number | null;
  expiresAt: Date | null;
  policy: RegistrationPolicy;
}

export async function createInitialAccessToken(
  services: Pick<Services, 'registrationTokens' | 'audit' | 'clock'>,
  input: InitialTokenInput,
): Promise<IssuedInitialToken> {
  const { maxUses, expiresInSeconds } = input;
  if (maxUses !== undefined && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 1_000_000))
    throw new AdminError('max uses must be a whole number from 1 to 1000000');
  if (
    expiresInSeconds !== undefined &&
    (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > 31_536_000)
  )
    throw new AdminError('expires-in must be a whole number of seconds from 60 to 31536000');
  const policy = checkPolicy(input.policy ?? {});
  const opaque = newOpaqueToken();
  const expiresAt =
    expiresInSeconds === undefined
      ? null
      : new Date(services.clock.now().getTime() + expiresInSeconds * 1000);
  await services.registrationTokens.create({
    id: randomUUID(),
    tokenHash: opaque.hash,
    maxUses: maxUses ?? null,
    expiresAt,
    policy,
  });
  await services.audit.record({
    type: 'registration.token_created',
    details: { max_uses: maxUses ?? null, expires_at: expiresAt?.toISOString() ?? null, policy },
  });
  return { token: opaque.value, maxUses: maxUses ?? null, expiresAt, policy };
}

function checkPolicy(policy: RegistrationPolicy): RegistrationPolicy {
  const out: RegistrationPolicy = {};
  if (policy.grant_types?.length) {
    const unknown = policy.grant_types.filter((g) => !GRANT_TYPES.includes(g));
    if (unknown.length) throw new AdminError(`unknown grant type ${unknown.join(', ')}`);
    if (policy.grant_types.includes('password'))
      throw new AdminError('the password grant is for first-party clients, never registered');
    out.grant_types = [...new Set(policy.grant_types)] as GrantType[];
  }
  if (policy.scopes?.length) {
    const bad = policy.scopes.filter((s) => !isScopeToken(s));
    if (bad.length) throw new AdminError(`invalid scope ${bad.join(' ')}`);
    out.scopes = [...new Set(policy.scopes)];
  }
  if (policy.audiences?.length) out.audiences = [...new Set(policy.audiences)];
  if (policy.redirect_uri_prefixes?.length) {
    for (const prefix of policy.redirect_uri_prefixes)
      if (
        !/^(https:\/\/[^/?#]+\/|http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]|[a-z][a-z0-9+.-]*\.[a-z0-9+.-]*:)/i.test(
          prefix,
        )
      )
        throw new AdminError(
          `redirect URI prefix ${prefix} must name a whole host (https://app.example/), a loopback host or a private-use scheme`,
        );
    out.redirect_uri_prefixes = [...new Set(policy.redirect_uri_prefixes)];
  }
  return out;
}
