/**
 * A TCP proxy of the test's own between the server and PostgreSQL, so a test can take the
 * database away and give it back. `cut('refuse')` destroys every connection and refuses new
 * ones (a crashed server); `cut('blackhole')` keeps sockets open but forwards nothing and
 * accepts new connections that never answer (a network partition — the hard case, where only
 * client-side timeouts help). `restore()` forwards again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  /** Loopback port the proxy listens on. */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  proxiedUrl(url: string): string;
  cut(mode?: CutMode): void;
  /**
   * Cuts (as cut()) right after the next chunk a client sends has been forwarded: a statement
   * that reached PostgreSQL, whose answer never comes back.
   */
  cutAfterNextQuery(mode?: CutMode): void;
  restore(): void;
  /** Connections currently forwarded. */
  readonly openConnections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let state: 'open' | CutMode = 'open';
  let armed: CutMode | null = null;
  const pairs = new Set<{ client: Socket; upstream: Socket | null }>();

  function cut(mode: CutMode): void {
    state = mode;
    for (const pair of pairs) {
      if (mode === 'refuse') {
        pair.client.destroy();
        pair.upstream?.destroy();
      } else {
        // Stop the flow both ways without telling either side.
        pair.client.unpipe();
        pair.upstream?.unpipe();
        pair.client.pause();
        pair.upstream?.pause();
      }
    }
    if (mode === 'refuse') pairs.clear();
  }

  const server: Server = createServer((client) => {
    client.on('error', () => {});
    if (state === 'refuse') {
      client.destroy();
      return;
    }
    const pair: { client: Socket; upstream: Socket | null } = { client, upstream: null };
    pairs.add(pair);
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    // In a blackhole nothing is forwarded: the client waits for an answer that never comes.
    if (state === 'blackhole') return;
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    // Registered after the pipe's own listener, so the chunk is forwarded before the cut.
    client.on('data', () => {
      if (armed === null) return;
      const mode = armed;
      armed = null;
      cut(mode);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;

  return {
    port,
    proxiedUrl(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: (mode = 'refuse') => cut(mode),
    cutAfterNextQuery(mode = 'refuse') {
      armed = mode;
    },
    restore() {
      // Blackholed sockets stay dead (their protocol state is unknown); drop them so the pool
      // sees errors and reconnects, as it would after a real partition's TCP timeout.
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      pairs.clear();
      state = 'open';
    },
    get openConnections() {
      return pairs.size;
    },
    close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
