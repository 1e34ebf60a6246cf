/**
 * loadConfig(): parses the environment once, derives what depends on several variables
 * (issuer, embedded mode) and freezes the result. A bad value stops start-up with a message
 * naming the variable (ConfigError), never a stack trace.
 */
import { describeIssue } from '../shared/validation-messages';
import { envSchema, type Env } from './schema';

export interface Config extends Env {
  /** Issuer without a trailing slash. */
  readonly issuer: string;
  /** True when running on the embedded PGlite database. */
  readonly embedded: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // `PORT must be a number`: the variable as written, then what is wrong with it.
    throw new ConfigError(parsed.error.issues.map((i) => describeIssue(i, env)));
  }
  const e = parsed.data;
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const problems: string[] = [];
  const url = new URL(issuer);
  if (url.search || url.hash)
    problems.push('ISSUER must not have a query or fragment (OIDC Discovery §3)');
  if (e.NODE_ENV === 'production' && url.protocol !== 'https:' && !isLoopback(url.hostname)) {
    problems.push('ISSUER must use https in production (RFC 9700 §2.6)');
  }
  if (e.ARGON2_MEMORY_KIB < 19456 && e.NODE_ENV === 'production') {
    problems.push("ARGON2_MEMORY_KIB must be at least 19456 (OWASP's minimum) in production");
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({ ...e, issuer, embedded: !e.DATABASE_URL });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

export type { Env };
