/**
 * The embedded database has one owner: a second opener (in this process or another) refuses
 * with a message naming the owner and DATABASE_URL; the lock goes with close(), and a lock left
 * by a process that died (SIGKILL) is taken over. The folders are private (0700), created so
 * before the engine writes a byte, and an existing group- or world-readable one is tightened.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database';

jest.setTimeout(120_000);

const root = join(__dirname, '..', '..');
const mode = (p: string) => statSync(p).mode & 0o777;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Another process that opens the embedded database in `dataDir` and keeps it open. */
async function holdInChild(dataDir: string) {
  const script = `require('./src/db/database').openDatabase({ embeddedDataDir: ${JSON.stringify(dataDir)} }).then(() => console.log('open'), (e) => { console.error(e.message); process.exit(3); }); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => c.toString().includes('open') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}: ${out}`)));
  });
  return child;
}

describe('one owner per embedded database folder', () => {
  it('a second opener in the same process refuses until the first closes', async () => {
    const dataDir = join(dir, 'data', 'pglite');
    const first = await openDatabase({ embeddedDataDir: dataDir });
    try {
      await expect(openDatabase({ embeddedDataDir: dataDir })).rejects.toThrow(
        new RegExp(`in use by another process: pid ${process.pid}\\b.*DATABASE_URL`, 's'),
      );
      // The refused opener changed nothing: the owner still reads and writes.
      await first.prisma.$executeRawUnsafe('CREATE TABLE t (x int)');
      await first.prisma.$executeRawUnsafe('INSERT INTO t VALUES (1)');
    } finally {
      await first.close();
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
    const second = await openDatabase({ embeddedDataDir: dataDir });
    try {
      expect(await second.prisma.$queryRawUnsafe('SELECT x FROM t')).toEqual([{ x: 1 }]);
    } finally {
      await second.close();
    }
  });

  it('another process holding it is named; once it is killed (SIGKILL) its stale lock is taken over', async () => {
    const dataDir = join(dir, 'data', 'pglite');
    const holder = await holdInChild(dataDir);
    try {
      await expect(openDatabase({ embeddedDataDir: dataDir })).rejects.toThrow(
        new RegExp(`pid ${holder.pid}\\b`),
      );
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(true);
    const db = await openDatabase({ embeddedDataDir: dataDir });
    await db.close();
  });
});

describe('the embedded database folders are private', () => {
  it('creates DATA_DIR and the database folder 0700 and the lock file 0600', async () => {
    const dataDir = join(dir, 'data', 'pglite');
    const db = await openDatabase({ embeddedDataDir: dataDir });
    try {
      expect([mode(join(dir, 'data')), mode(dataDir), mode(`${dataDir}.lock`)]).toEqual([
        0o700, 0o700, 0o600,
      ]);
    } finally {
      await db.close();
    }
  });

  it('tightens an existing world-readable DATA_DIR and database folder to 0700', async () => {
    const dataDir = join(dir, 'data', 'pglite');
    mkdirSync(dataDir, { recursive: true, mode: 0o755 });
    const db = await openDatabase({ embeddedDataDir: dataDir });
    await db.close();
    expect([mode(join(dir, 'data')), mode(dataDir)]).toEqual([0o700, 0o700]);
  });
});
