/**
 * "Never more than the body limit read" (issue 7): a client streams a huge body; the server
 * answers 413 after reading about BODY_LIMIT_BYTES and closes the connection, so the client
 * can push only a bounded amount (the limit plus kernel socket buffers) of its 256 MiB.
 */
import { request } from 'node:http';
import { useTestServer } from '../support/server';

const BODY_LIMIT = 16 * 1024;
const TOTAL = 256 * 1024 * 1024;
/** What the loopback socket buffers can absorb on top of what the server read, generously. */
const MAX_WRITTEN = 24 * 1024 * 1024;

const server = useTestServer({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT) } });

/** Streams up to TOTAL bytes (chunked, or with a truthful Content-Length) until the server hangs up. */
function streamHuge(
  method: string,
  path: string,
  declareLength: boolean,
): Promise<{ status: number | undefined; written: number }> {
  const url = new URL(server().url);
  return new Promise((resolve) => {
    let written = 0;
    let status: number | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ status, written });
    };
    const req = request({
      host: url.hostname,
      port: url.port,
      method,
      path,
      agent: false,
      headers: {
        connection: 'keep-alive',
        'content-type': 'application/x-www-form-urlencoded',
        ...(declareLength
          ? { 'content-length': String(TOTAL) }
          : { 'transfer-encoding': 'chunked' }),
      },
    });
    // Keep writing after the answer: only the server hanging up stops the client, so `written`
    // shows how much the server was willing to take in.
    req.on('response', (res) => {
      status = res.statusCode;
      res.resume();
    });
    req.on('error', finish);
    req.on('socket', (socket) => socket.on('close', finish));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const pump = () => {
      while (!done && written < TOTAL) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done) req.end();
    };
    pump();
  });
}

describe('request bodies past BODY_LIMIT_BYTES', () => {
  it.each([
    ['POST', '/token'],
    ['POST', '/refresh'],
    ['POST', '/revoke'],
    ['POST', '/introspect'],
    ['POST', '/userinfo'],
    ['POST', '/authorize'],
    ['POST', '/login'],
    ['POST', '/logout'],
  ])('%s %s answers 413 without reading a streamed 256 MiB body', async (method, path) => {
    for (const declareLength of [false, true]) {
      const { status, written } = await streamHuge(method, path, declareLength);
      expect(status).toBe(413);
      expect(written).toBeLessThan(MAX_WRITTEN);
    }
  });

  it.each([
    ['GET', '/healthz'],
    ['GET', '/.well-known/jwks.json'],
    ['GET', '/authorize'],
  ])(
    '%s %s (which takes no body) does not drain a streamed 256 MiB body either',
    async (method, path) => {
      const { written } = await streamHuge(method, path, false);
      expect(written).toBeLessThan(MAX_WRITTEN);
    },
  );

  it('the server is alive afterwards', async () => {
    expect((await fetch(`${server().url}/healthz`)).status).toBe(200);
  });
});
