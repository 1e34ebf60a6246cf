/**
 * Outgoing mail. With SMTP_URL, through that server (nodemailer); without it on the embedded
 * default, written to DATA_DIR/mail/ as .eml files and their links logged, so a newcomer can
 * follow them on a laptop. A mail that cannot be handed over rejects with MailNotSent: the
 * caller answers "we could not send the email" and keeps nothing of the request.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config';
import type { Logger } from '../shared/logger';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The absolute links in the mail (logged by the file mailer only). */
  links: readonly string[];
}

export class MailNotSent extends Error {
  override name = 'MailNotSent';
}

export interface Mailer {
  /** Whether mail can be sent at all (SMTP_URL, or the embedded default's mail folder). */
  readonly enabled: boolean;
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function buildMailer(
  config: Pick<Config, 'SMTP_URL' | 'MAIL_FROM' | 'DATA_DIR' | 'embedded'>,
  log: Logger,
): Mailer {
  if (config.SMTP_URL) return smtpMailer(config.SMTP_URL, config.MAIL_FROM, log);
  if (config.embedded) return fileMailer(join(config.DATA_DIR, 'mail'), config.MAIL_FROM, log);
  return {
    enabled: false,
    send: () => Promise.reject(new MailNotSent('no SMTP_URL configured')),
    close() {},
  };
}

function smtpMailer(url: string, from: string, log: Logger): Mailer {
  const transport: Transporter = nodemailer.createTransport({
    url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    enabled: true,
    async send(mail) {
      try {
        await transport.sendMail({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
        });
      } catch (err) {
        // The server's reply names the cause; the recipient and the links stay out of the log.
        log.warn({ err: { message: (err as Error).message } }, 'mail not sent');
        throw new MailNotSent((err as Error).message);
      }
    },
    close: () => transport.close(),
  };
}

function fileMailer(dir: string, from: string, log: Logger): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    enabled: true,
    async send(mail) {
      try {
        const info = await transport.sendMail({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
        });
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const file = join(dir, `${Date.now()}-${randomBytes(4).toString('hex')}.eml`);
        writeFileSync(file, info.message as Buffer, { mode: 0o600 });
        // Only on the embedded default (a laptop): the links are how its user follows the mail.
        log.info({ file, subject: mail.subject, links: mail.links }, 'mail written (no SMTP_URL)');
      } catch (err) {
        throw new MailNotSent((err as Error).message);
      }
    },
    close() {},
  };
}
