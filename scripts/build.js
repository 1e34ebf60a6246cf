#!/usr/bin/env node
// Compiles src/ (TypeScript) to dist/src/ (CommonJS JavaScript), file by file, for `npm start`.
// Running compiled JavaScript instead of transpiling at load time (tsx) keeps the TypeScript
// loader and its worker thread out of the server: about 40 MB less resident memory, measured
// by `npm run bench` (docs/performance.md). Tests and the CLI still run the sources directly.
// esbuild only strips types; `npm run typecheck` is what checks them.
'use strict';
const { readdirSync, rmSync } = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'src');
const out = path.join(root, 'dist', 'src');

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

// A clean build: no stale module from a file since deleted or renamed.
rmSync(out, { recursive: true, force: true });
esbuild.buildSync({
  entryPoints: sources(src),
  outdir: out,
  outbase: src,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
