/**
 * Runs the `tessera` CLI with a minimal environment (PATH, HOME and what the test passes) so
 * the caller's DATABASE_URL or keys never leak into it: in this process (runCliInProcess, the
 * same runCli the bin calls), or as operators run it, a child process of bin/tessera.js
 * (runTessera: for the bin itself, stdin, .env loading and the embedded database's lock).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../scripts/cli/run';

const root = join(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function minimalEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env };
}

/** One CLI invocation in this process: what it printed and its exit code. */
export async function runCliInProcess(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => Promise.resolve(stdin),
    env: minimalEnv(env),
  });
  return { code, stdout, stderr };
}

export function runTessera(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'tessera.js'), ...args], {
      cwd: root,
      env: minimalEnv(env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
