/**
 * Tessera's `token_exchange` client-metadata field (RFC 8693 leaves the exchange policy to the
 * server, §2.2.2 and §5), and its mapping to and from the client record:
 *
 * - `audiences`: the targets (`audience` or `resource` values, compared exactly) the client may
 *   exchange tokens into;
 * - `impersonation` (default false): whether an exchange without an actor token may yield a
 *   token without `act`; otherwise the client itself is named as the actor (delegation);
 * - `subject_token_types` (default access tokens only): which token types it may present as the
 *   subject; ID tokens only on opt-in.
 */
import { z } from 'zod';
import { EXCHANGE_SUBJECT_TOKEN_TYPES, type TokenExchangePolicy } from './client-storage';

/** The token-exchange grant's name in `grant_types` (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export const tokenExchangeSchema = z
  .object({
    audiences: z
      .array(
        z
          .string()
          .min(1)
          .max(500)
          .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII'),
      )
      .min(1)
      .max(20),
    impersonation: z.boolean().default(false),
    subject_token_types: z
      .array(z.enum(EXCHANGE_SUBJECT_TOKEN_TYPES))
      .min(1)
      .max(EXCHANGE_SUBJECT_TOKEN_TYPES.length)
      .default(['urn:ietf:params:oauth:token-type:access_token']),
  })
  .strict();

type PolicyMetadata = z.output<typeof tokenExchangeSchema>;

/** The policy a valid `token_exchange` registers (duplicates dropped). */
export function exchangePolicyOf(m: PolicyMetadata): TokenExchangePolicy {
  return {
    audiences: [...new Set(m.audiences)],
    impersonation: m.impersonation,
    subjectTokenTypes: [...new Set(m.subject_token_types)],
  };
}

/** The policy as the metadata document prints it. */
export function policyMetadataOf(p: TokenExchangePolicy): PolicyMetadata {
  return {
    audiences: p.audiences,
    impersonation: p.impersonation,
    subject_token_types: p.subjectTokenTypes,
  };
}
