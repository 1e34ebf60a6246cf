/**
 * A minimal keep-alive HTTP/1.1 client over one raw TCP socket, for load generation only.
 * Node's own http client costs more CPU per request than the servers under test, so a load
 * generator built on it would measure itself.
 * This one writes a pre-built request, parses the status line, Content-Length or chunked
 * framing, and hands back the body. One request in flight per connection (no pipelining):
 * a closed loop, as a client waiting for its answer behaves.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Raw header block (lower-case it before searching). */
  head: string;
  body: Buffer;
}

type Callback = (err: Error | null, res?: RawResponse) => void;

const CRLFCRLF = Buffer.from('\r\n\r\n');

export class RawConnection {
  private readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: Callback | null = null;
  private closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by server')));
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(request: Buffer, cb: Callback): void {
    if (this.closed) return cb(new Error('connection is closed'));
    if (this.pending) return cb(new Error('request already in flight'));
    this.pending = cb;
    this.socket.write(request);
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.closed = true;
    const cb = this.pending;
    this.pending = null;
    if (cb) cb(err);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const res = this.tryParse();
    if (!res) return;
    const cb = this.pending;
    this.pending = null;
    if (cb) cb(null, res);
  }

  /** Returns a complete response and removes it from the buffer, or null if more bytes are needed. */
  private tryParse(): RawResponse | null {
    const end = this.buf.indexOf(CRLFCRLF);
    if (end < 0) return null;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const bodyStart = end + 4;
    const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    if (cl) {
      const len = Number(cl[1]);
      if (this.buf.length < bodyStart + len) return null;
      const body = this.buf.subarray(bodyStart, bodyStart + len);
      this.buf = this.buf.subarray(bodyStart + len);
      return { status, head, body };
    }
    if (/\r\ntransfer-encoding:\s*chunked/.test(lower))
      return this.tryParseChunked(head, status, bodyStart);
    // No body framing: 204/304 and the like.
    this.buf = this.buf.subarray(bodyStart);
    return { status, head, body: Buffer.alloc(0) };
  }

  private tryParseChunked(head: string, status: number, bodyStart: number): RawResponse | null {
    const parts: Buffer[] = [];
    let pos = bodyStart;
    for (;;) {
      const lineEnd = this.buf.indexOf('\r\n', pos, 'latin1');
      if (lineEnd < 0) return null;
      const size = parseInt(this.buf.toString('latin1', pos, lineEnd), 16);
      const dataStart = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = this.buf.indexOf('\r\n', dataStart, 'latin1');
        if (trailerEnd < 0) return null;
        this.buf = this.buf.subarray(trailerEnd + 2);
        return { status, head, body: Buffer.concat(parts) };
      }
      if (this.buf.length < dataStart + size + 2) return null;
      parts.push(this.buf.subarray(dataStart, dataStart + size));
      pos = dataStart + size + 2;
    }
  }
}

/** Builds the bytes of one HTTP/1.1 request. */
export function buildRequest(opts: {
  method: string;
  path: string;
  host: string;
  headers?: Record<string, string>;
  body?: string;
}): Buffer {
  const lines = [
    `${opts.method} ${opts.path} HTTP/1.1`,
    `Host: ${opts.host}`,
    'Connection: keep-alive',
  ];
  for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`);
  if (opts.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(opts.body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${opts.body ?? ''}`);
}
