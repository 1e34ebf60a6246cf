import type { z } from 'zod';

/** Rules over several variables: each problem is reported under the variable to change. */
export function crossFieldRules(
  env: {
    SIGNING_ALGS: string[];
    DEFAULT_SIGNING_ALG: string;
    NODE_ENV: string;
    SEED_DEMO: boolean;
    SIGNUP?: string;
    SMTP_URL?: string | undefined;
    DATABASE_URL?: string | undefined;
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
  // Sign-up sends verification mail: without SMTP_URL only the embedded default has a mailbox (DATA_DIR/mail/).
  if (env.SIGNUP && env.SIGNUP !== 'off' && !env.SMTP_URL && env.DATABASE_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['SMTP_URL'],
      message: `must be set when SIGNUP=${env.SIGNUP} with DATABASE_URL: new accounts are verified by email`,
    });
  }
}
