/**
 * One owner per embedded database folder. PGlite is PostgreSQL inside this process with no
 * server to arbitrate: a second process opening the same folder works on its own copy of the
 * buffers and the WAL, so what it writes is lost when the owner next checkpoints, or it breaks
 * the folder. The owner holds `<folder>.lock` (mode 0600): its pid, the kernel's start time of
 * that pid (so a reused pid is not mistaken for the owner), when, and which program. A second
 * opener refuses and names the owner. A lock whose process is gone (a crash, SIGKILL) is stale
 * and taken over.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { relative } from 'node:path';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

interface LockOwner {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot); absent where there is no /proc. */
  processStart?: string;
  host: string;
  startedAt: string;
  /** The program only, never its arguments (a CLI call may carry --password). */
  program: string;
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(folder: string): DataDirLock {
  const path = `${folder}.lock`;
  const mine = JSON.stringify(currentOwner());
  // Two tries: the second after taking over a stale lock.
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(path, mine)) break;
    const text = readOrEmpty(path);
    const owner = parseOwner(text);
    if (attempt > 0 || (owner && isAlive(owner)) || !takeOverStale(path, text))
      throw lockedError(folder, owner);
  }
  const release = () => {
    process.off('exit', release);
    // Only our own lock: never one a later owner took over.
    if (readOrEmpty(path) === mine) unlinkQuiet(path);
  };
  // A process that exits without closing the database (process.exit on a fatal error) lets go too.
  process.on('exit', release);
  return { release };
}

/** Writes the complete lock file under another name, then links it into place: link(2) fails when the name exists, so the lock is never seen half-written. */
function createExclusive(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuiet(tmp);
  }
}

/**
 * Removes a stale lock whose content was `text`. It is renamed aside first (atomic), and only
 * deleted when it is still the one judged stale: of two processes taking over at once, the
 * later would otherwise delete the lock the earlier had just created.
 */
function takeOverStale(path: string, text: string): boolean {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    // Gone already: someone else took it over or its owner released it; try again.
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  if (readOrEmpty(aside) === text) {
    unlinkQuiet(aside);
    return true;
  }
  // A fresh lock was moved: put it back (link fails only if yet another one appeared meanwhile).
  try {
    linkSync(aside, path);
  } catch {
    // The newer one stays.
  }
  unlinkQuiet(aside);
  return false;
}

function currentOwner(): LockOwner {
  const script = process.argv[1];
  const inCwd = script && relative(process.cwd(), script);
  return {
    pid: process.pid,
    processStart: processStart(process.pid),
    host: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    program: inCwd && !inCwd.startsWith('..') ? inCwd : script || process.argv0,
  };
}

function isAlive(owner: LockOwner): boolean {
  // Another machine (a shared folder): its processes cannot be checked, so it holds the lock.
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const start = processStart(owner.pid);
  return !owner.processStart || !start || start === owner.processStart;
}

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function lockedError(folder: string, owner: LockOwner | undefined): DataDirLockedError {
  const who = owner
    ? `pid ${owner.pid} (${owner.program}${owner.host !== hostname() ? ` on ${owner.host}` : ''}, started ${owner.startedAt})`
    : 'a process that is opening it';
  return new DataDirLockedError(
    `the embedded database in ${folder} is in use by another process: ${who}. ` +
      'An embedded database has one owner at a time: stop that process first, or run the server and the CLI on one PostgreSQL server with DATABASE_URL.',
  );
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
