/**
 * Structured JSON logging (pino). Secrets are redacted by field name wherever they appear,
 * so a careless `log.info({ body })` cannot leak a password or a token.
 */
import pino, { type Logger } from 'pino';

/** Field names whose values never reach a log line. */
export const REDACTED_FIELDS = [
  'password',
  'new_password',
  'client_secret',
  'secret',
  'refresh_token',
  'access_token',
  'id_token',
  'id_token_hint',
  'logout_token',
  'token',
  'code',
  'code_verifier',
  'authorization',
  'cookie',
  'set-cookie',
  'privateKey',
  'private_key',
  'd',
  'KEY_ENCRYPTION_KEY',
];

const paths = REDACTED_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
  const dot = key.startsWith('[') ? key : `.${key}`;
  return [key, `*${dot}`, `*.*${dot}`];
});

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tessera' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export type { Logger };
