import { ConfigError, loadConfig } from '../../src/config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('loadConfig accepted a bad value');
}

describe('loadConfig', () => {
  it('gives documented defaults on an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      ACCESS_TOKEN_TTL: 900,
      issuer: 'http://localhost:3000',
      embedded: true,
      SIGNING_ALGS: ['RS256', 'ES256'],
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('derives the issuer from PORT and strips a trailing slash from ISSUER', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    expect(loadConfig({ ISSUER: 'https://auth.example.com/' }).issuer).toBe(
      'https://auth.example.com',
    );
  });

  it('accepts every duration down to 1 second', () => {
    const c = loadConfig({
      ACCESS_TOKEN_TTL: '1',
      ID_TOKEN_TTL: '1',
      REFRESH_TOKEN_TTL: '1',
      REFRESH_TOKEN_IDLE_TTL: '1',
      AUTHORIZATION_CODE_TTL: '1',
    });
    expect([
      c.ACCESS_TOKEN_TTL,
      c.ID_TOKEN_TTL,
      c.REFRESH_TOKEN_TTL,
      c.REFRESH_TOKEN_IDLE_TTL,
    ]).toEqual([1, 1, 1, 1]);
  });

  it.each([
    ['PORT', 'abc', 'PORT must be a number'],
    ['PORT', '70000', 'PORT must be at most 65535'],
    ['ACCESS_TOKEN_TTL', '0', 'ACCESS_TOKEN_TTL must be at least 1'],
    ['ACCESS_TOKEN_TTL', '1.5', 'ACCESS_TOKEN_TTL must be an integer'],
    ['ACCESS_TOKEN_TTL', 'soon', 'ACCESS_TOKEN_TTL must be a number'],
    ['REFRESH_TOKEN_IDLE_TTL', '-5', 'REFRESH_TOKEN_IDLE_TTL must be at least 1'],
    ['TRUST_PROXY_HOPS', '0', 'TRUST_PROXY_HOPS must be at least 1'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL must be a postgres:// URL'],
    ['ISSUER', 'ftp://auth.example.com', 'ISSUER must be an http or https URL'],
    ['SIGNING_ALGS', 'HS256', 'SIGNING_ALGS entries must be RS256 or ES256'],
    ['SEED_DEMO', 'maybe', 'SEED_DEMO must be one of 0, 1, true, false, yes, no'],
    ['ARGON2_MEMORY_KIB', '12', 'ARGON2_MEMORY_KIB must be at least 1024'],
    ['SMTP_URL', 'http://mail.example.com', 'SMTP_URL must be an smtp:// or smtps:// URL'],
    ['SIGNUP', 'maybe', 'SIGNUP must be one of off, invite, open'],
  ])('rejects %s=%s: "%s"', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([message]);
  });

  it.each([
    ['ISSUER', { ISSUER: 'https://auth.example.com/?x=1' }],
    ['ISSUER', { NODE_ENV: 'production', ISSUER: 'http://auth.example.com' }],
    [
      'ARGON2_MEMORY_KIB',
      { NODE_ENV: 'production', ISSUER: 'https://auth.example.com', ARGON2_MEMORY_KIB: '4096' },
    ],
    ['DEFAULT_SIGNING_ALG', { DEFAULT_SIGNING_ALG: 'ES256', SIGNING_ALGS: 'RS256' }],
    ['DEFAULT_SIGNING_ALG', { DEFAULT_SIGNING_ALG: 'RS256', SIGNING_ALGS: 'ES256' }],
    [
      'SEED_DEMO',
      { NODE_ENV: 'production', ISSUER: 'https://auth.example.com', SEED_DEMO: 'true' },
    ],
    // Sign-up mails its verification links: a database server needs a mail server.
    ['SMTP_URL', { SIGNUP: 'open', DATABASE_URL: 'postgres://db/tessera' }],
  ])('rejects an inconsistent %s', (name, env) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(new RegExp(`^${name} must `))]);
  });

  it('names both variables when DEFAULT_SIGNING_ALG is not one of SIGNING_ALGS', () => {
    expect(problemsOf({ DEFAULT_SIGNING_ALG: 'ES256', SIGNING_ALGS: 'RS256' })).toEqual([
      expect.stringMatching(/^DEFAULT_SIGNING_ALG must .*SIGNING_ALGS.*ES256/),
    ]);
  });

  it('listens on the loopback interface unless HOST is set', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({ PORT: 'abc', ACCESS_TOKEN_TTL: '0' });
    expect(problems.sort()).toEqual([
      'ACCESS_TOKEN_TTL must be at least 1',
      'PORT must be a number',
    ]);
  });
});
