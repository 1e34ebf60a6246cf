/**
 * Child processes of the benchmark: every server, every limit and the load generator run in a
 * process of their own, so that each uses the CPU and memory it would use alone and the
 * orchestrator's own work is never measured. Also samples a server's resident memory.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
/** Every TypeScript child runs through tsx, as `npm start` does. */
const TSX = ['--import', 'tsx'];

/** Children still running, so an interrupted run can stop them (they are not in our group's signal path when we are killed alone). */
const live = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Forks a TypeScript module, sends it one message and resolves with its one answer. */
export function runChild<T>(
  file: string,
  message: unknown,
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = track(
      fork(path.join(ROOT, file), [], {
        execArgv: TSX,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    let answered = false;
    child.once('message', (m) => {
      answered = true;
      resolve(m as T);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!answered) reject(new Error(`${file} exited (${code ?? signal}) without an answer`));
    });
    child.send(message as object);
  });
}

export interface ServiceProcess {
  readonly pid: number;
  readonly port: number;
  /** Sends a forked server one message and resolves with its next answer. */
  ask?<T>(message: object): Promise<T>;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** Forks a TypeScript server module that answers `{ ready: true, port }` once it listens. */
export function startForked(
  file: string,
  config: unknown,
  env: NodeJS.ProcessEnv = {},
): Promise<ServiceProcess> {
  return new Promise((resolve, reject) => {
    const child = track(
      fork(path.join(ROOT, file), [], {
        execArgv: TSX,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    child.once('message', (m: { ready?: boolean; port?: number; error?: string }) => {
      const ask = <T>(message: object) =>
        new Promise<T>((res, rej) => {
          child.once('message', (answer: T & { error?: string }) =>
            answer.error ? rej(new Error(answer.error)) : res(answer),
          );
          child.send(message);
        });
      if (m.ready && m.port) resolve({ pid: child.pid!, port: m.port, ask, stop: stopper(child) });
      else reject(new Error(`${file}: ${m.error ?? 'did not start'}`));
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`${file} exited (${code ?? signal}) before it was ready`)),
    );
    child.send(config as object);
  });
}

/**
 * Spawns a command (the real server, as operators start it) and waits until `readyUrl`
 * answers 200. Its stderr is kept to explain a failed start.
 */
export async function startSpawned(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  readyPath: string,
): Promise<ServiceProcess> {
  const child = track(spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
    process.stderr.write(d);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready after 60 s: ${stderr}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}${readyPath}`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid: child.pid!, port, stop: stopper(child) };
}

/** pid and every descendant process (cluster workers). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // the process ended between two reads
    }
  }
  return out;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0); false when not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * The peak of the summed resident memory of a server's Node processes (the server and its
 * workers; helper binaries such as esbuild are not the server) within a window. Where Linux
 * lets the peak be reset (clear_refs), a window is read off the kernel's own high-water marks,
 * summed over the processes (never less than the peak of the sum): every page counted, nothing
 * sampled, and no work while the load runs, whose CPU would be taken from the server under
 * test. Elsewhere it samples every 100 ms.
 */
export class RssSampler {
  private peakKiB = 0;
  private timer: NodeJS.Timeout | undefined;
  private kernelPeak = false;

  constructor(private readonly pid: number) {}

  private nodeProcesses(): number[] {
    return processTree(this.pid).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim().startsWith('node');
      } catch {
        return false;
      }
    });
  }

  /** Starts a new window; returns the peak (MB) of the previous one. */
  restart(): number {
    const peak = this.peakMB();
    this.peakKiB = 0;
    clearInterval(this.timer);
    this.kernelPeak = this.nodeProcesses().every(resetPeak);
    this.sample();
    if (!this.kernelPeak) {
      this.timer = setInterval(() => this.sample(), 100);
      this.timer.unref();
    }
    return peak;
  }

  sample(): void {
    const total = this.nodeProcesses().reduce(
      (s, p) => s + statusKiB(p, this.kernelPeak ? 'VmHWM' : 'VmRSS'),
      0,
    );
    if (total > this.peakKiB) this.peakKiB = total;
  }

  peakMB(): number {
    return Math.round(this.peakKiB / 102.4) / 10;
  }

  /** Kernel's high-water mark, summed over processes (catches peaks between samples). */
  hwmMB(): number {
    return (
      Math.round(this.nodeProcesses().reduce((s, p) => s + statusKiB(p, 'VmHWM'), 0) / 102.4) / 10
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
