/**
 * `.env` in the working directory is read by the server (`npm start`) and the CLI, and a
 * variable already set in the real environment wins over it. `.env` gives a value that makes
 * the process stop at once with a config error naming it, so no server has to start.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_MAIN } from '../support/spawn-server';

jest.setTimeout(120_000);

const root = join(__dirname, '..', '..');
const KEK = randomBytes(32).toString('base64');

const programs = {
  server: [SERVER_MAIN],
  cli: [join(root, 'bin', 'tessera.js'), 'users', 'list'],
};

/** Runs `program` in `cwd` with only PATH, HOME and `env`; resolves its exit code and output. */
function run(
  program: keyof typeof programs,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, programs[program], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    // Were .env ignored, the embedded default would start (and keep running): give up then.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => (clearTimeout(timer), resolve({ code, output })));
  });
}

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'tessera-dotenv-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

describe.each(Object.keys(programs) as (keyof typeof programs)[])('%s and .env', (program) => {
  it('reads .env from the working directory, and the real environment wins over it', async () => {
    writeFileSync(
      join(cwd, '.env'),
      `# a comment\nLOG_LEVEL=loud\nDATABASE_URL=mysql://from-dotenv\nKEY_ENCRYPTION_KEY=${KEK}\n`,
    );
    // LOG_LEVEL comes from .env alone (a config error); DATABASE_URL from the real environment
    // (a good value), so .env's bad one must not be the one named.
    const res = await run(program, cwd, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(res.code).toBe(1);
    expect(res.output).toMatch(/LOG_LEVEL/);
    expect(res.output).not.toMatch(/DATABASE_URL/);
  });
});
