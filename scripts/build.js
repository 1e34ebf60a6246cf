#!/usr/bin/env node
// Compiles src/ (TypeScript) to dist/src/ (CommonJS JavaScript), file by file, for `npm start`.
// Running compiled JavaScript keeps a TypeScript loader (tsx) and its worker thread out of the
// server's memory. Tests and the CLI still run the sources directly.
// esbuild only strips types; `npm run typecheck` is what checks them.
//
// Safe while another server runs from dist/ or starts from it (a second `npm start`, a restart
// overlapping the old process): each build goes to a fresh folder, dist/.src-<hash>, and
// dist/src is a symbolic link switched to it with one rename(2), so a process loading dist/src
// sees the old build or the new one, never a missing or half-written module. <hash> covers the
// sources, this script and esbuild's version: when it names the build dist/src already points
// to, nothing is built. Builds that are neither current nor the one just replaced are removed
// once they are a minute old (a build another `npm start` is about to switch to is younger).
'use strict';
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
const link = path.join(dist, 'src');
const KEEP_UNUSED_MS = 60_000;

function sources(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return sources(p);
      return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
    });
}

function hashOf(files) {
  const hash = createHash('sha256')
    .update(fs.readFileSync(__filename))
    .update(`\0${esbuild.version}\0`);
  for (const file of files)
    hash
      .update(`${path.relative(src, file)}\0`)
      .update(fs.readFileSync(file))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

const unique = () => `${process.pid}-${randomBytes(4).toString('hex')}`;

function readLink() {
  try {
    return fs.readlinkSync(link);
  } catch {
    return undefined;
  }
}

/** Builds into a folder of its own, then renames it to `name` (unless an identical build got there first). */
function build(files, name) {
  const tmp = path.join(dist, `.tmp-${unique()}`);
  try {
    esbuild.buildSync({
      entryPoints: files,
      outdir: tmp,
      outbase: src,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
    });
    fs.renameSync(tmp, path.join(dist, name));
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  }
}

/** Points dist/src at `name` in one rename(2) of a new link over the old one. */
function switchTo(name) {
  const tmp = path.join(dist, `.link-${unique()}`);
  fs.symlinkSync(name, tmp);
  try {
    fs.renameSync(tmp, link);
  } catch (err) {
    if (err.code !== 'EISDIR' && err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    // dist/src is still a plain folder from an older build script: moved aside once, not atomically.
    const old = path.join(dist, `.old-${unique()}`);
    fs.renameSync(link, old);
    fs.renameSync(tmp, link);
    fs.rmSync(old, { recursive: true, force: true });
  }
}

function removeUnused(keep) {
  for (const entry of fs.readdirSync(dist)) {
    if (keep.includes(entry) || !/^\.(src|tmp|link|old)-/.test(entry)) continue;
    const p = path.join(dist, entry);
    try {
      if (Date.now() - fs.lstatSync(p).mtimeMs > KEEP_UNUSED_MS)
        fs.rmSync(p, { recursive: true, force: true });
    } catch {
      // removed by another build meanwhile
    }
  }
}

const files = sources(src);
const name = `.src-${hashOf(files)}`;
fs.mkdirSync(dist, { recursive: true });
const previous = readLink();
const built = fs.existsSync(path.join(dist, name));
if (!built) build(files, name);
if (previous !== name || !built) switchTo(name);
removeUnused([name, previous]);
