/**
 * `npm start` on the embedded default, as a process, around what can go wrong at start-up: it
 * listens on loopback only; its folders are private; while it runs it owns the database (the
 * CLI and a second server refuse, naming it, and work again after it stops); a lost
 * key-encryption key is reported, never silently replaced; production never gets the demo
 * account.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database';
import { LOCAL_KEK_FILE } from '../../src/keys/kek-source';
import { runTessera } from '../support/cli';
import { freePort } from '../support/server';
import { SERVER_MAIN } from '../support/spawn-server';

jest.setTimeout(240_000);

const root = join(__dirname, '..', '..');
const FAST = { ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', LOG_LEVEL: 'warn' };
const mode = (p: string) => statSync(p).mode & 0o777;

interface Started {
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** `node dist/src/main.js` with only `env` (no DATABASE_URL leaks in, no HOST unless given). */
function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    stop: () => (child.exitCode === null && child.kill('SIGTERM'), exited),
  };
}

async function waitReady(url: string, started: Started): Promise<void> {
  const deadline = Date.now() + 90_000;
  let exited = false;
  void started.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited early:\n${started.output()}`);
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready:\n${started.output()}`);
}

/** Whether something accepts TCP connections on host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const externalIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('npm start on the embedded default: one owner, private folders, loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-embedded-'));
  const dataDir = join(dir, 'data');
  const keysDir = join(dir, 'keys');
  let env: Record<string, string>;
  let url: string;
  let port: number;
  let server: Started | undefined;

  beforeAll(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // No HOST: the default is what is under test.
    env = { ...FAST, PORT: String(port), ISSUER: url, DATA_DIR: dataDir, KEYS_DIR: keysDir };
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only, with DATA_DIR and KEYS_DIR 0700 and the generated key 0600', async () => {
    server = start(env);
    await waitReady(url, server);
    if (externalIPv4) expect(await accepts(externalIPv4, port)).toBe(false);
    expect([
      mode(dataDir),
      mode(join(dataDir, 'pglite')),
      mode(keysDir),
      mode(join(keysDir, LOCAL_KEK_FILE)),
    ]).toEqual([0o700, 0o700, 0o700, 0o600]);
  });

  it('while it runs, the CLI and a second server on the same DATA_DIR refuse, naming it and DATABASE_URL', async () => {
    const cli = await runTessera(
      ['users', 'create', '--email', 'ada@example.com', '--password-stdin'],
      env,
      'correct horse battery\n',
    );
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(new RegExp(`in use by another process: pid ${server!.pid}\\b`));
    expect(cli.stderr).toMatch(/DATABASE_URL/);
    const second = start({ ...env, PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(
      new RegExp(`cannot start: .*in use by another process: pid ${server!.pid}\\b`),
    );
    // The owner is unharmed.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('after SIGTERM the lock is gone and the CLI works on the same data', async () => {
    expect(await server!.stop()).toBe(0);
    expect(existsSync(join(dataDir, 'pglite.lock'))).toBe(false);
    const created = await runTessera(
      ['users', 'create', '--email', 'ada@example.com', '--password-stdin', '--json'],
      env,
      'correct horse battery\n',
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const listed = await runTessera(['users', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { email: string }[]).map((u) => u.email).sort()).toEqual([
      'ada@example.com',
      'demo@example.com',
    ]);
  });

  it('with keys/key-encryption-key lost it refuses to start, names the file and both ways out, and generates nothing', async () => {
    const kek = join(keysDir, LOCAL_KEK_FILE);
    rmSync(kek);
    const again = start(env);
    expect(await again.exited).toBe(1);
    const out = again.output();
    expect(out).toContain(kek);
    expect(out).toMatch(/restore/i);
    expect(out).toContain(`remove ${dataDir}`);
    // It never advises a variable the user did not set.
    expect(out).not.toMatch(/KEY_ENCRYPTION_KEY/);
    expect(existsSync(kek)).toBe(false);
  });
});

describe('npm start on the embedded default with NODE_ENV=production', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-embedded-prod-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('neither seeds nor prints the demo account', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = start({
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      ISSUER: url,
      DATA_DIR: join(dir, 'data'),
      KEYS_DIR: join(dir, 'keys'),
    });
    try {
      await waitReady(url, server);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).not.toMatch(/demo|password/i);
    const db = await openDatabase({ embeddedDataDir: join(dir, 'data', 'pglite') });
    try {
      expect([await db.prisma.user.count(), await db.prisma.client.count()]).toEqual([0, 0]);
    } finally {
      await db.close();
    }
  });
});
