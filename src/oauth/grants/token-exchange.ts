/**
 * Token Exchange (RFC 8693): a confidential client trades a user's token (the subject token)
 * for an access token to another audience, acting for that user.
 *
 * - Subject (§2.1): Tessera's own access tokens, or its ID tokens issued to this client where
 *   the client's policy lists that type; checked by exchange-tokens.ts. Anything else, or a
 *   foreign, expired, revoked or malformed token, is invalid_request (§2.2.2).
 * - Actor (§2.1, §4.1): with `actor_token` (an access token issued to this client) the token's
 *   `act` names that token's subject; without one it names the client itself — unless the
 *   client's policy allows impersonation, and then the token carries no new `act`. An `act`
 *   the subject token already has is nested inside the new one (§4.1: a chain), and kept as
 *   it is by impersonation, which never hides an earlier actor. A subject token's `may_act`
 *   (§4.4) must name the acting party.
 * - Target (§2.1 `audience`, RFC 8707 `resource`, both repeatable): each must be among the
 *   policy's audiences (invalid_target, §2.2.2); none given is the policy's only audience.
 * - Scope (§2.1): within the subject token's scopes and the client's (invalid_scope); without
 *   `scope`, all of those. An ID token carries no scopes: its exchange gets only the ones asked
 *   for, within the client's.
 * - Result (§2.2.1): an access token (the only `requested_token_type` issued), no refresh
 *   token — the exchange is repeated with a fresh subject token instead — never outliving the
 *   subject token, DPoP-bound when the request carries a proof (issue.ts).
 */
import { z } from 'zod';
import {
  EXCHANGE_SUBJECT_TOKEN_TYPES,
  type ExchangeSubjectTokenType,
  type TokenExchangePolicy,
} from '../../clients/client-storage';
import { TOKEN_EXCHANGE } from '../../clients/token-exchange-policy';
import type { Services } from '../../services';
import type { ActorClaim } from '../../tokens/access-token';
import { InvalidRequest, InvalidTarget, UnauthorizedClient } from '../errors';
import { MAX_RESOURCES, parseResources, resourceParam } from '../resources';
import {
  ACCESS_TOKEN_TYPE,
  verifyActorToken,
  verifySubjectToken,
  type ExchangeActor,
  type ExchangeSubject,
  type ExchangeTokenDeps,
} from './exchange-tokens';
import { issue, type ExchangedToken, type IssueDeps } from './issue';
import { grantScopes } from './scope';
import type { GrantContext, GrantModule, TokenResponse } from './types';

/** RFC 8693 §2.1: `audience` may be given more than once, as RFC 8707's `resource`. */
export const EXCHANGE_REPEATABLE_PARAMS: readonly string[] = ['audience'];

/** The deepest delegation chain (nested `act`) an exchange issues. */
export const MAX_ACTOR_CHAIN = 10;

type ExchangeDeps = IssueDeps & ExchangeTokenDeps & Pick<Services, 'audit'>;

const token = z.string().min(1).max(8192);
const tokenType = z.string().min(1).max(200);

const params = z.object({
  subject_token: token,
  subject_token_type: tokenType,
  actor_token: token.optional(),
  actor_token_type: tokenType.optional(),
  requested_token_type: tokenType.optional(),
  audience: z.array(z.string().min(1).max(500)).min(1).max(MAX_RESOURCES).optional(),
  resource: resourceParam,
  scope: z.string().optional(),
});
type Params = z.infer<typeof params>;

async function tokenExchangeHandler(
  p: Params,
  ctx: GrantContext<ExchangeDeps>,
): Promise<TokenResponse> {
  const exchange = await validateTokenExchange(p, ctx);
  const response = await issue(ctx, {
    kind: 'exchange',
    at: ctx.services.clock.now(),
    exchange: exchange.token,
  });
  await ctx.services.audit.record({
    type: 'token.exchanged',
    userId: exchange.token.user.id,
    clientId: ctx.client.id,
    ip: ctx.ip,
    requestId: ctx.requestId,
    details: {
      subject_token_type: exchange.subject.type,
      subject_client_id: exchange.subject.clientId,
      actor: exchange.token.act?.sub ?? null,
      impersonation: exchange.impersonation,
      audience: exchange.token.audience,
      scope: response.scope,
    },
  });
  return response;
}

interface ValidatedExchange {
  subject: ExchangeSubject;
  token: ExchangedToken;
  impersonation: boolean;
}

async function validateTokenExchange(
  p: Params,
  ctx: GrantContext<ExchangeDeps>,
): Promise<ValidatedExchange> {
  const policy = exchangePolicy(ctx);
  // §2.1: access tokens are the only type this server issues by exchange.
  if (p.requested_token_type !== undefined && p.requested_token_type !== ACCESS_TOKEN_TYPE)
    throw new InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  const subjectType = subjectTokenType(p.subject_token_type, policy);
  // §2.1: actor_token_type is REQUIRED with actor_token and MUST NOT be sent without one.
  if ((p.actor_token === undefined) !== (p.actor_token_type === undefined))
    throw new InvalidRequest('actor_token and actor_token_type go together');
  if (p.actor_token_type !== undefined && p.actor_token_type !== ACCESS_TOKEN_TYPE)
    throw new InvalidRequest(`actor_token_type must be ${ACCESS_TOKEN_TYPE}`);
  const audience = exchangeTargets(p, policy);

  const subject = await verifySubjectToken(p.subject_token, subjectType, ctx);
  const actor = p.actor_token === undefined ? null : await verifyActorToken(p.actor_token, ctx);
  const impersonation = actor === null && policy.impersonation;
  const act = actorClaim(subject, actor, impersonation, ctx.client.id);
  const allowed = subject.scopes
    ? subject.scopes.filter((s) => ctx.client.scopes.includes(s))
    : ctx.client.scopes;
  const scopes = grantScopes(p.scope, allowed, subject.scopes ? allowed : []);
  return {
    subject,
    impersonation,
    token: {
      user: subject.user,
      authTime: subject.authTime,
      scopes,
      audience,
      act,
      notAfter: subject.expiresAt,
    },
  };
}

/** Only a confidential client with an exchange policy (RFC 8693 §5: the server's policy decides). */
function exchangePolicy(ctx: GrantContext<ExchangeDeps>): TokenExchangePolicy {
  if (ctx.client.isPublic) throw new UnauthorizedClient('Public clients cannot use token exchange');
  if (!ctx.client.tokenExchange)
    throw new UnauthorizedClient('The client has no token exchange policy');
  return ctx.client.tokenExchange;
}

/** §2.1 / §3: a subject token type this server accepts and the client's policy allows. */
function subjectTokenType(value: string, policy: TokenExchangePolicy): ExchangeSubjectTokenType {
  const known = EXCHANGE_SUBJECT_TOKEN_TYPES.find((t) => t === value);
  if (!known || !policy.subjectTokenTypes.includes(known))
    throw new InvalidRequest(
      `subject_token_type must be one of ${policy.subjectTokenTypes.join(', ')}`,
    );
  return known;
}

/**
 * §2.1: the token's audience, from `audience` (logical names) and `resource` (absolute URIs,
 * RFC 8707 §2), each one of the policy's audiences (§2.2.2: invalid_target).
 */
function exchangeTargets(p: Params, policy: TokenExchangePolicy): string[] {
  const targets = [...new Set([...(p.audience ?? []), ...(parseResources(p.resource) ?? [])])];
  if (targets.length === 0) {
    if (policy.audiences.length === 1) return [...policy.audiences];
    throw new InvalidTarget(
      'audience or resource is required: the client may exchange into several',
    );
  }
  const allowed = new Set(policy.audiences);
  const outside = targets.find((t) => !allowed.has(t));
  if (outside !== undefined)
    throw new InvalidTarget(`audience is not allowed for this client: ${shown(outside)}`);
  return targets;
}

/**
 * §4.1: the new `act` — the actor token's subject, or the client — with the subject token's
 * chain nested inside; impersonation adds no actor. §4.4: `may_act` must name the acting party.
 */
function actorClaim(
  subject: ExchangeSubject,
  actor: ExchangeActor | null,
  impersonation: boolean,
  clientId: string,
): ActorClaim | undefined {
  const acting = actor?.sub ?? clientId;
  if (subject.mayAct && subject.mayAct.sub !== acting)
    throw new InvalidRequest('subject_token does not allow this actor (may_act)');
  if (impersonation) return subject.act;
  const act: ActorClaim = { sub: acting, ...(subject.act ? { act: subject.act } : {}) };
  if (chainLength(act) > MAX_ACTOR_CHAIN)
    throw new InvalidRequest(`subject_token has too many actors (at most ${MAX_ACTOR_CHAIN})`);
  return act;
}

function chainLength(act: ActorClaim | undefined): number {
  let n = 0;
  for (let a = act; a; a = a.act) n++;
  return n;
}

/** The value as the client sent it, printable and short enough for a description. */
function shown(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}

export const tokenExchangeGrant = {
  grantType: TOKEN_EXCHANGE,
  params,
  handle: tokenExchangeHandler,
} satisfies GrantModule<typeof params, ExchangeDeps>;
