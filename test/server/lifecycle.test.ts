/**
 * `npm start` as operators run it: a child process on the embedded default in a temporary
 * DATA_DIR. It becomes ready, prints the demo banner with a ready curl command, shuts down
 * cleanly on SIGTERM (exit 0), and a second start on the same folder reuses the data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database';
import { freePort } from '../support/server';
import { SERVER_MAIN } from '../support/spawn-server';

const root = join(__dirname, '..', '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: root,
    // Only what it needs: no DATABASE_URL from the test environment, so the embedded default runs.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => out, exited };
}

async function waitReady(url: string, started: Started, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null)
      throw new Error(`server exited early:\n${started.output()}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${started.output()}`);
}

async function stopWithSigterm(started: Started): Promise<number | null> {
  started.child.kill('SIGTERM');
  return started.exited;
}

describe('npm start on the embedded default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  let env: Record<string, string>;
  let url: string;
  let first: Started | undefined;
  let second: Started | undefined;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'),
      KEYS_DIR: join(dir, 'keys'),
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(() => {
    for (const s of [first, second]) if (s && s.child.exitCode === null) s.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('becomes ready, prints the demo banner with a curl command, and exits 0 on SIGTERM', async () => {
    first = start(env);
    await waitReady(url, first);
    expect(first.output()).toContain('Demo data created:');
    expect(first.output()).toMatch(
      new RegExp(`curl -s http://localhost:\\d+/token -u '[^']+:[^']+' \\\\`),
    );
    expect(first.output()).toContain('-d grant_type=password');
    await expect(stopWithSigterm(first)).resolves.toBe(0);
  });

  it('a second start on the same DATA_DIR reuses the data: no new demo user or client', async () => {
    const clientId = /client\s+(\S+) \//.exec(first!.output())?.[1];
    expect(clientId).toBeDefined();
    second = start(env);
    await waitReady(url, second);
    expect(second.output()).toContain('Demo data:');
    expect(second.output()).not.toContain('Demo data created:');
    expect(second.output()).toContain(`client   ${clientId} /`);
    await expect(stopWithSigterm(second)).resolves.toBe(0);

    const db = await openDatabase({ embeddedDataDir: join(dir, 'data', 'pglite') });
    try {
      expect(await db.prisma.user.count()).toBe(1);
      expect(await db.prisma.client.count()).toBe(1);
    } finally {
      await db.close();
    }
  });
});
