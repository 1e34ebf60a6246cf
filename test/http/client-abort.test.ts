/**
 * A client that hangs up in the middle of its request body is the client's doing: it is
 * counted under status 499 (nginx's "client closed request") in the HTTP metrics, logged at
 * debug, and never taken for an unavailable database (503, an error line with a stack).
 */
import { connect } from 'node:net';
import { createLogger } from '../../src/shared/logger';
import { startTestServer, type TestServer } from '../support/server';

const lines: Record<string, unknown>[] = [];
let server: TestServer;
beforeAll(async () => {
  const log = createLogger('debug', {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  server = await startTestServer({ logger: log });
});
afterAll(async () => {
  await server?.stop();
});

/** Sends the headers and half of the declared body, then destroys the socket. */
async function abortMidBody(path: string, type: string): Promise<void> {
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) =>
    socket.once('connect', resolve).once('error', reject),
  );
  const half = 'grant_type=password&username=ada%40example.com';
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${type}\r\nContent-Length: ${half.length * 2}\r\n\r\n${half}`,
  );
  // The server has read the headers and the first half once it answers nothing for a turn of
  // the event loop; destroying then is an abort in the middle of the body.
  await new Promise((r) => setImmediate(r));
  socket.destroy();
}

/** Resolves once the request logger has written the line for the aborted request. */
async function loggedRequest(path: string, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (lines.filter((l) => l.msg === 'request' && l.path === path).length < count) {
    if (Date.now() > deadline) throw new Error(`no request line for ${path}`);
    await new Promise((r) => setImmediate(r));
  }
}

async function metricLines(): Promise<string[]> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('tessera_http_requests_total{'));
}

it.each([
  ['/token', 'application/x-www-form-urlencoded'],
  ['/token', 'application/json'],
  ['/revoke', 'application/x-www-form-urlencoded'],
  ['/login', 'application/x-www-form-urlencoded'],
])('an abort mid-body on %s (%s) counts as 499 and logs no error', async (path, type) => {
  const before = lines.filter((l) => l.msg === 'request' && l.path === path).length;
  await abortMidBody(path, type);
  await loggedRequest(path, before + 1);
  const metrics = await metricLines();
  expect(metrics.filter((l) => l.includes('status="503"'))).toEqual([]);
  expect(metrics.some((l) => l.includes(`route="${path}"`) && l.includes('status="499"'))).toBe(
    true,
  );
  expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
});
