/**
 * A real SMTP server on loopback (smtp-server, in the test process) that keeps every message
 * delivered to it, or refuses every message (`reject`), so tests read what Tessera really sent.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface DeliveredMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  raw: string;
}

export interface Mailbox {
  /** SMTP_URL for the server under test. */
  url: string;
  messages: DeliveredMail[];
  /** The next message to `to` (waits up to 5 s for it). */
  next(to: string): Promise<DeliveredMail>;
  close(): Promise<void>;
}

export async function startMailbox(options: { reject?: boolean } = {}): Promise<Mailbox> {
  const messages: DeliveredMail[] = [];
  const taken = new Set<DeliveredMail>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (options.reject)
        return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          ...parse(raw),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async next(to) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const found = messages.find((m) => !taken.has(m) && m.to.includes(to.toLowerCase()));
        if (found) {
          taken.add(found);
          return found;
        }
        if (Date.now() > deadline) throw new Error(`no mail to ${to}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first absolute link in a mail's text body that starts with `prefix`. */
export function linkIn(mail: DeliveredMail, prefix: string): string {
  const found = mail.text.match(/https?:\/\/\S+/g)?.find((l) => l.startsWith(prefix));
  if (!found) throw new Error(`no link to ${prefix} in: ${mail.text}`);
  return found;
}

function headersOf(block: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) map.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return map;
}

function decode(body: string, encoding: string | undefined): string {
  if (encoding?.toLowerCase() === 'base64')
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding?.toLowerCase() === 'quoted-printable') {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

function parse(raw: string): { subject: string; text: string; html: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = headersOf(raw.slice(0, split));
  const rest = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const type = head.get('content-type') ?? 'text/plain';
  const out = { subject: head.get('subject') ?? '', text: '', html: '' };
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  const parts = boundary
    ? rest.split(`--${boundary}`).slice(1, -1)
    : [
        `content-type: ${type}\r\ncontent-transfer-encoding: ${head.get('content-transfer-encoding') ?? '7bit'}\r\n\r\n${rest}`,
      ];
  for (const part of parts) {
    const s = part.replace(/^\r?\n/, '');
    const at = s.search(/\r?\n\r?\n/);
    const ph = headersOf(s.slice(0, at));
    const body = decode(
      s.slice(at).replace(/^\r?\n\r?\n/, ''),
      ph.get('content-transfer-encoding'),
    );
    if (ph.get('content-type')?.startsWith('text/html')) out.html = body;
    else if (ph.get('content-type')?.startsWith('text/plain')) out.text = body;
  }
  return out;
}
