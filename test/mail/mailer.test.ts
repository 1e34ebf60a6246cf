/**
 * The mailer on its own: through a real SMTP server on loopback (plain text and HTML, From
 * MAIL_FROM), a refusing server as MailNotSent, and — on the embedded default without SMTP_URL —
 * an .eml file in DATA_DIR/mail/ with its links in the log.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMailer, MailNotSent } from '../../src/mail/mailer';
import { mails } from '../../src/mail/templates';
import { createLogger } from '../../src/shared/logger';
import { startMailbox } from '../support/mailbox';

const silent = createLogger('silent');
const LINK = 'https://id.example.com/verify-email?token=abc_DEF-123';

describe('mailer', () => {
  it('delivers plain text and HTML through SMTP_URL, from MAIL_FROM', async () => {
    const mailbox = await startMailbox();
    try {
      const mailer = buildMailer(
        {
          SMTP_URL: mailbox.url,
          MAIL_FROM: 'Auth <auth@example.com>',
          DATA_DIR: '.',
          embedded: false,
        },
        silent,
      );
      expect(mailer.enabled).toBe(true);
      await mailer.send(mails.verifyEmail('ada@example.com', LINK, 3600));
      const mail = await mailbox.next('ada@example.com');
      expect(mail.from).toBe('auth@example.com');
      expect(mail.subject).toBe('Confirm your email address for Tessera');
      expect(mail.text).toContain(LINK);
      expect(mail.text).toContain('60 minutes');
      expect(mail.html).toContain(`href="${LINK}"`);
      mailer.close();
    } finally {
      await mailbox.close();
    }
  });

  it('rejects with MailNotSent when the server refuses the message', async () => {
    const mailbox = await startMailbox({ reject: true });
    try {
      const mailer = buildMailer(
        { SMTP_URL: mailbox.url, MAIL_FROM: 'a@example.com', DATA_DIR: '.', embedded: false },
        silent,
      );
      await expect(mailer.send(mails.resetPassword('ada@example.com', LINK, 600))).rejects.toThrow(
        MailNotSent,
      );
      expect(mailbox.messages).toEqual([]);
      mailer.close();
    } finally {
      await mailbox.close();
    }
  });

  it('on the embedded default without SMTP_URL writes DATA_DIR/mail/*.eml and logs the links', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-mail-'));
    const lines: string[] = [];
    try {
      const mailer = buildMailer(
        { SMTP_URL: undefined, MAIL_FROM: 'a@example.com', DATA_DIR: dataDir, embedded: true },
        createLogger('info', { write: (l: string) => void lines.push(l) }),
      );
      expect(mailer.enabled).toBe(true);
      await mailer.send(mails.verifyEmail('ada@example.com', LINK, 3600));
      const files = readdirSync(join(dataDir, 'mail'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.eml$/);
      const eml = readFileSync(join(dataDir, 'mail', files[0]!), 'utf8');
      expect(eml).toMatch(/^To: ada@example\.com$/m);
      expect(eml).toMatch(/multipart\/alternative/);
      const logged = lines.map((l) => JSON.parse(l) as { msg: string; links?: string[] });
      expect(logged.find((l) => l.msg === 'mail written (no SMTP_URL)')?.links).toEqual([LINK]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is off with a database server and no SMTP_URL', async () => {
    const mailer = buildMailer(
      { SMTP_URL: undefined, MAIL_FROM: 'a@example.com', DATA_DIR: '.', embedded: false },
      silent,
    );
    expect(mailer.enabled).toBe(false);
    await expect(mailer.send(mails.passwordChanged('a@example.com', LINK))).rejects.toThrow(
      MailNotSent,
    );
  });
});

describe('mail templates', () => {
  it.each(Object.keys(mails))('%s has a subject, a text and an HTML body', (name) => {
    const build = mails[name as keyof typeof mails] as (...args: unknown[]) => {
      subject: string;
      text: string;
      html: string;
    };
    const mail = build('ada@example.com', LINK, 'https://id.example.com/forgot-password');
    expect(mail.subject.length).toBeGreaterThan(5);
    expect(mail.text).toContain('Tessera');
    expect(mail.html).toMatch(/^<!doctype html>/);
  });
});
