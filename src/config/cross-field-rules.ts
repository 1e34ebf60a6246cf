import type { z } from 'zod';

/** Rules over several variables: each problem is reported under the variable to change. */
export function crossFieldRules(
  env: {
    SIGNING_ALGS: string[];
    DEFAULT_SIGNING_ALG: string;
    NODE_ENV: string;
    SEED_DEMO: boolean;
  },
  ctx: z.RefinementCtx,
): void {
  // Keys are kept only for SIGNING_ALGS: a default outside them could sign nothing.
  if (!env.SIGNING_ALGS.includes(env.DEFAULT_SIGNING_ALG)) {
    ctx.addIssue({
      code: 'custom',
      path: ['DEFAULT_SIGNING_ALG'],
      message: `must be one of SIGNING_ALGS (${env.SIGNING_ALGS.join(',')}), not ${env.DEFAULT_SIGNING_ALG}: add it to SIGNING_ALGS or choose one of them`,
    });
  }
  // The demo account's password is printed and kept in a file.
  if (env.SEED_DEMO && env.NODE_ENV === 'production') {
    ctx.addIssue({
      code: 'custom',
      path: ['SEED_DEMO'],
      message: 'must not be true with NODE_ENV=production: the demo account is never created there',
    });
  }
}
