/**
 * Tessera's configuration: one zod schema, parsed once at start-up from the environment.
 * Every field has a default (where one is safe) and a description; `.env.example` and the
 * README's table are kept in step with these descriptions (test/config/env-example.test.ts).
 */
import { z } from 'zod';
import { crossFieldRules } from './cross-field-rules';

const seconds = (def: number, description: string) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(10 * 365 * 24 * 3600)
    .default(def)
    .describe(description);

const optionalSeconds = (description: string) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(10 * 365 * 24 * 3600)
    .optional()
    .describe(description);

const bool = (def: boolean, description: string) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .describe(description);

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/** The environment variables Tessera reads, with their defaults and meaning. */
export const envSchema = z
  .object({
    NODE_ENV: z
      .enum(['development', 'production', 'test'])
      .default('development')
      .describe('Runtime mode: development, production or test.'),
    PORT: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(3000)
      .describe('TCP port the HTTP server listens on (0 picks a free port).'),
    HOST: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe(
        'Interface the HTTP server binds to: this machine only by default; 0.0.0.0 for every interface (a container, a proxy on another host).',
      ),
    ISSUER: z
      .preprocess(
        emptyAsUndefined,
        z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).optional(),
      )
      .describe(
        'Issuer identifier (iss) and public base URL; defaults to http://localhost:$PORT. Must be https in production.',
      ),
    DATABASE_URL: z
      .preprocess(
        emptyAsUndefined,
        z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
          .optional(),
      )
      .describe(
        'PostgreSQL connection URL. When unset, an embedded PGlite database in DATA_DIR is used.',
      ),
    DATA_DIR: z
      .string()
      .min(1)
      .default('.data')
      .describe('Folder of the embedded database (used only without DATABASE_URL).'),
    DB_POOL_SIZE: z.coerce
      .number()
      .int()
      .min(1)
      .max(500)
      .default(10)
      .describe('Maximum PostgreSQL connections per process.'),
    DB_CONNECT_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(3000)
      .describe('Milliseconds to wait for a database connection before failing the request.'),
    DB_STATEMENT_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(5000)
      .describe('Milliseconds any one SQL statement may run.'),
    SEED_DEMO: bool(
      false,
      'Create the demo user and client on start even with DATABASE_URL (always done on the embedded default; never with NODE_ENV=production).',
    ),
    KEY_ENCRYPTION_KEY: z
      .preprocess(emptyAsUndefined, z.string().optional())
      .describe(
        'Comma-separated base64 32-byte keys (openssl rand -base64 32) that encrypt signing keys at rest; the first encrypts. Generated into keys/ on the embedded default when unset.',
      ),
    KEYS_DIR: z
      .string()
      .min(1)
      .default('keys')
      .describe(
        'Folder for local key material (the generated key-encryption key on the embedded default).',
      ),
    SIGNING_ALGS: z
      .string()
      .default('RS256,ES256')
      .transform((s) =>
        s
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(['RS256', 'ES256'])).min(1))
      .describe('Comma-separated signing algorithms to keep keys for (RS256, ES256).'),
    DEFAULT_SIGNING_ALG: z
      .enum(['RS256', 'ES256'])
      .default('RS256')
      .describe('Algorithm for clients that do not choose one (RS256: every gateway verifies it).'),
    JWKS_MAX_AGE: seconds(600, 'Seconds verifiers may cache the JWKS (Cache-Control max-age).'),
    KEY_PUBLISH_MARGIN: seconds(
      60,
      'Extra seconds a new key is published before it may sign, on top of JWKS_MAX_AGE + KEY_REFRESH_INTERVAL (the longest a verifier can hold a JWKS without it).',
    ),
    KEY_ROTATION_INTERVAL: optionalSeconds(
      'When set, a running server rotates signing keys this many seconds after the active key was activated.',
    ),
    KEY_REFRESH_INTERVAL: seconds(
      30,
      'Seconds between reloads of the key store from the database (bounds how soon every instance sees a rotation).',
    ),
    CLOCK_SKEW: z.coerce
      .number()
      .int()
      .min(0)
      .max(600)
      .default(30)
      .describe(
        "Seconds of tolerance for other parties' clocks running ahead (a token's nbf); Tessera's own access tokens are inactive from their exp, with none.",
      ),
    CLIENT_ASSERTION_MAX_LIFETIME: seconds(
      300,
      'Longest a client authentication assertion (private_key_jwt, client_secret_jwt) may still be valid when presented: its exp at most this many seconds (plus CLOCK_SKEW) ahead.',
    ),
    OUTBOUND_ALLOW_PRIVATE: bool(
      false,
      'Let the server request URLs that clients register (jwks_uri, backchannel_logout_uri) at private, loopback and link-local addresses, and over plain http to those addresses. Development and tests only: it opens request forgery into your network.',
    ),
    ACCESS_TOKEN_TTL: seconds(900, 'Access-token lifetime in seconds.'),
    ID_TOKEN_TTL: seconds(3600, 'ID-token lifetime in seconds.'),
    REFRESH_TOKEN_TTL: seconds(
      30 * 24 * 3600,
      'Absolute lifetime of a refresh-token family (one login) in seconds.',
    ),
    REFRESH_TOKEN_IDLE_TTL: seconds(
      7 * 24 * 3600,
      'A refresh token unused for this many seconds expires.',
    ),
    REFRESH_REUSE_GRACE_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(300)
      .default(60)
      .describe(
        "Retry window: seconds after a rotation during which presenting the rotated refresh token again returns the same successor (a lost response loses no session); after it, a replay revokes the family. Size it to your clients' longest timeout plus retry.",
      ),
    AUTHORIZATION_CODE_TTL: seconds(60, 'Authorization-code lifetime in seconds.'),
    REGISTRATION: z
      .enum(['off', 'initial-token', 'open'])
      .default('off')
      .describe(
        'Dynamic client registration at POST /register (RFC 7591): off; initial-token (an operator-issued initial access token, `tessera registration create-token`, with its policy); or open (anyone, public clients with loopback or private-use redirect URIs only, REGISTRATION_RATE_LIMIT per IP).',
      ),
    REGISTRATION_RATE_LIMIT: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(10)
      .describe(
        'With REGISTRATION=open: registrations per client IP per hour, counted by each instance.',
      ),
    SIGNUP: z
      .enum(['off', 'invite', 'open'])
      .default('off')
      .describe(
        'Self-service sign-up at /signup: off; invite (only with an invitation link from `tessera users invite`); or open (anyone; also prompt=create on /authorize). New accounts sign in once their email is verified.',
      ),
    SMTP_URL: z
      .preprocess(
        emptyAsUndefined,
        z
          .string()
          .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
          .optional(),
      )
      .describe(
        'Outgoing mail server (smtp://user:pass@host:587 or smtps://host:465). When unset on the embedded default, mails are written to DATA_DIR/mail/ as .eml files and their links logged.',
      ),
    MAIL_FROM: z
      .string()
      .min(3)
      .max(320)
      .default('Tessera <no-reply@localhost>')
      .describe(
        'The From address of the mails Tessera sends (verification, password reset, notices).',
      ),
    EMAIL_TOKEN_TTL: seconds(
      3600,
      'Lifetime in seconds of the single-use links sent by email (verification, password reset).',
    ),
    INVITATION_TTL: seconds(7 * 24 * 3600, 'Lifetime in seconds of a sign-up invitation link.'),
    PAR_REQUEST_URI_TTL: z.coerce
      .number()
      .int()
      .min(5)
      .max(60)
      .default(60)
      .describe(
        'Seconds a pushed authorization request (RFC 9126) can be used: the expires_in of its request_uri.',
      ),
    REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: bool(
      false,
      'Accept authorization requests from every client only through the pushed authorization request endpoint (RFC 9126 §5); per client with the require_pushed_authorization_requests metadata.',
    ),
    DEVICE_CODE_TTL: z.coerce
      .number()
      .int()
      .min(60)
      .max(3600)
      .default(600)
      .describe(
        'Seconds a device authorization (RFC 8628) can be approved and polled: the expires_in of its device_code and user_code.',
      ),
    DEVICE_CODE_INTERVAL: z.coerce
      .number()
      .int()
      .min(1)
      .max(60)
      .default(5)
      .describe(
        'Seconds a device must wait between polls of the token endpoint (RFC 8628 §3.2 interval); polling sooner gets slow_down and 5 more seconds.',
      ),
    DEVICE_USER_CODE_MAX_FAILURES: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe(
        'Wrong user codes entered on /device from one client IP before that IP is slowed down (RFC 8628 §5.1), with the login backoff settings.',
      ),
    DPOP_PROOF_MAX_AGE: z.coerce
      .number()
      .int()
      .min(1)
      .max(600)
      .default(60)
      .describe(
        'Seconds after its iat a DPoP proof is accepted (RFC 9449 §4.3); CLOCK_SKEW covers a client clock running ahead. A used proof is remembered this long, to refuse its replay.',
      ),
    DPOP_NONCE: bool(
      false,
      "Require server-provided nonces in DPoP proofs at /token, /refresh and /userinfo (RFC 9449 §8): a proof without the current nonce gets use_dpop_nonce and a DPoP-Nonce header. Nonces are derived from KEY_ENCRYPTION_KEY and the time, so every instance accepts every other instance's.",
    ),
    DPOP_NONCE_WINDOW: z.coerce
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(300)
      .describe(
        "With DPOP_NONCE: seconds each nonce is handed out; the previous window's nonce is still accepted, so a nonce lives one to two windows.",
      ),
    SESSION_TTL: seconds(14 * 24 * 3600, 'Browser (SSO) session lifetime in seconds.'),
    BACKCHANNEL_LOGOUT_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(5000)
      .describe(
        'Milliseconds one back-channel logout request (OpenID Connect Back-Channel Logout 1.0) may take, connecting and answering, before it counts as failed and is retried.',
      ),
    BACKCHANNEL_LOGOUT_RETRY_BASE: seconds(
      10,
      'Seconds before the first retry of a failed back-channel logout delivery; each further retry waits twice as long, up to BACKCHANNEL_LOGOUT_RETRY_MAX.',
    ),
    BACKCHANNEL_LOGOUT_RETRY_MAX: seconds(
      3600,
      'Longest wait in seconds between two attempts to deliver one logout token.',
    ),
    BACKCHANNEL_LOGOUT_GIVE_UP_AFTER: seconds(
      24 * 3600,
      'Seconds after a session ended during which its logout tokens are retried; a token still undelivered then is given up (audited as logout.backchannel_failed).',
    ),
    BACKCHANNEL_LOGOUT_POLL_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(50)
      .max(600_000)
      .default(5000)
      .describe(
        'Milliseconds between looks for due back-channel logout deliveries (retries, and tokens queued by another instance or the CLI); a logout on this instance is delivered at once.',
      ),
    ARGON2_MEMORY_KIB: z.coerce
      .number()
      .int()
      .min(1024)
      .max(4 * 1024 * 1024)
      .default(19456)
      .describe('argon2id memory cost in KiB (OWASP minimum 19456).'),
    ARGON2_TIME_COST: z.coerce
      .number()
      .int()
      .min(1)
      .max(20)
      .default(2)
      .describe('argon2id iterations.'),
    ARGON2_PARALLELISM: z.coerce
      .number()
      .int()
      .min(1)
      .max(16)
      .default(1)
      .describe('argon2id lanes.'),
    PASSWORD_HASH_CONCURRENCY: z
      .preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(256).optional())
      .describe(
        'argon2id computations at once per process (each holds ARGON2_MEMORY_KIB); further logins wait in line. Default: the number of CPU cores. Unless UV_THREADPOOL_SIZE is set, the libuv thread pool gets one thread per hash and one more, so that signing and other short jobs never wait behind a hash.',
      ),
    LOGIN_MAX_FAILURES: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe('Failed logins per account (or IP) before backoff starts.'),
    LOGIN_BACKOFF_BASE: seconds(
      1,
      'First backoff in seconds once LOGIN_MAX_FAILURES is reached; doubles with each further failure.',
    ),
    LOGIN_BACKOFF_MAX: seconds(
      900,
      'Longest backoff in seconds (an attacker can delay, never permanently lock out, a user).',
    ),
    LOGIN_FAILURE_WINDOW: seconds(
      3600,
      'Seconds after the last failure at which a counter is forgotten.',
    ),
    IP_MAX_FAILURES: z.coerce
      .number()
      .int()
      .min(1)
      .max(100000)
      .default(50)
      .describe('Failed logins from one client IP before that IP is slowed down.'),
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(64 * 1024)
      .describe('Largest request body accepted, in bytes.'),
    TRUST_PROXY: bool(false, 'Honour X-Forwarded-For/-Proto (only behind a proxy you control).'),
    TRUST_PROXY_HOPS: z.coerce
      .number()
      .int()
      .min(1)
      .max(10)
      .default(1)
      .describe(
        'With TRUST_PROXY: how many proxies you run in front of Tessera. The client IP is the X-Forwarded-For entry this many places from the right; entries further left were written by the client.',
      ),
    WEB_CONCURRENCY: z.coerce
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('Worker processes (Node cluster) serving HTTP.'),
    METRICS_TOKEN: z
      .preprocess(emptyAsUndefined, z.string().min(16).optional())
      .describe('When set, GET /metrics requires "Authorization: Bearer <token>".'),
    AUDIT_RETENTION_DAYS: z.coerce
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe('Days audit events are kept before the purge job deletes them.'),
    PURGE_INTERVAL: seconds(
      300,
      'Seconds between purges of expired codes, tokens, sessions and retired keys.',
    ),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Log level (pino).'),
  })
  .superRefine(crossFieldRules);

export type Env = z.infer<typeof envSchema>;
