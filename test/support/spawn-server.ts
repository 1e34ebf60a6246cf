/**
 * Starts Tessera as a real, separate process (`node dist/src/main.js`, exactly what `npm start`
 * runs; the test run's global setup compiles it), for tests about several instances and process lifecycle. Each instance gets its own
 * port; instances given the same DATABASE_URL and KEY_ENCRYPTION_KEY share one database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_ENV, freePort } from './server';

export interface SpawnedServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the process printed (stdout and stderr), for diagnostics. */
  output(): string;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = join(__dirname, '..', '..');
/** The compiled server `npm start` runs (built by scripts/build.js in the global setup). */
export const SERVER_MAIN = join(ROOT, 'dist', 'src', 'main.js');

export async function spawnServer(
  env: Record<string, string>,
  options: { readyTimeoutMs?: number } = {},
): Promise<SpawnedServer> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child: ChildProcess = spawn(process.execPath, [SERVER_MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...TEST_ENV,
      LOG_LEVEL: 'warn',
      ISSUER: `http://127.0.0.1:${port}`,
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (hasExited) throw new Error(`server exited during start-up:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${output}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    url,
    port,
    pid: child.pid!,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (!hasExited) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
