/**
 * `npm start`'s prestart build (scripts/build.js) on a copy of a checkout with a source tree of
 * its own: a second `npm start` (or a restart overlapping the old process) must never find
 * dist/src missing or half-written, two builds at once must both succeed, and a build with
 * nothing changed leaves dist/ as it is.
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(180_000);

const root = join(__dirname, '..', '..');
/** Enough modules that writing them takes a while, as the real tree does. */
const MODULES = 300;

let checkout: string;
const main = () => join(checkout, 'dist', 'src', 'main.js');

beforeAll(() => {
  checkout = mkdtempSync(join(tmpdir(), 'tessera-build-'));
  mkdirSync(join(checkout, 'scripts'));
  copyFileSync(join(root, 'scripts', 'build.js'), join(checkout, 'scripts', 'build.js'));
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
  mkdirSync(join(checkout, 'src', 'parts'), { recursive: true });
  for (let i = 0; i < MODULES; i++)
    writeFileSync(
      join(checkout, 'src', 'parts', `m${i}.ts`),
      `export const value: number = ${i};\n`,
    );
  writeSource(0);
});
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

/** main.ts requires every module and exports `generation`, so each generation builds differently. */
function writeSource(generation: number): void {
  const imports = Array.from(
    { length: MODULES },
    (_, i) => `import { value as v${i} } from './parts/m${i}';`,
  ).join('\n');
  const sum = Array.from({ length: MODULES }, (_, i) => `v${i}`).join(' + ');
  writeFileSync(
    join(checkout, 'src', 'main.ts'),
    `${imports}\nexport const generation: number = ${generation};\nexport const sum: number = ${sum};\n`,
  );
}

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: checkout,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const build = () => run([join(checkout, 'scripts', 'build.js')]);

/** A process loading dist/src/main.js afresh, again and again, until SIGTERM; prints what it saw. */
function startLoader() {
  const script = `
    let loads = 0; const failures = [];
    process.on('SIGTERM', () => { console.log(JSON.stringify({ loads, failures: failures.length, first: failures.slice(0, 3) })); process.exit(0); });
    (function loop() {
      for (const k of Object.keys(require.cache)) delete require.cache[k];
      try { const m = require(${JSON.stringify(main())}); if (m.sum !== ${(MODULES * (MODULES - 1)) / 2}) throw new Error('partial build: sum ' + m.sum); loads++; }
      catch (e) { failures.push(e.code || e.message); }
      setImmediate(loop);
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    return JSON.parse(out) as { loads: number; failures: number; first: string[] };
  };
}

describe('scripts/build.js', () => {
  it('skips the build when nothing changed: dist/ is left as it is', async () => {
    expect((await build()).code).toBe(0);
    const before = { path: realpathSync(main()), mtime: statSync(main()).mtimeMs };
    const again = await build();
    expect(again.code).toBe(0);
    expect({ path: realpathSync(main()), mtime: statSync(main()).mtimeMs }).toEqual(before);
  });

  it('while a process loads dist, rebuilds (two at a time) never show it a missing or half-written module', async () => {
    const stopLoader = startLoader();
    for (let generation = 1; generation <= 5; generation++) {
      writeSource(generation);
      const results = await Promise.all([build(), build()]);
      expect(results.map((r) => r.code)).toEqual([0, 0]);
    }
    const seen = await stopLoader();
    expect(seen.loads).toBeGreaterThan(0);
    expect(seen).toMatchObject({ failures: 0, first: [] });
    const last = await run(['-p', `require(${JSON.stringify(main())}).generation`]);
    expect(last.output.trim()).toBe('5');
  });
});
