#!/usr/bin/env node
// Generates the Prisma client into src/generated/prisma (run on npm install/ci).
// `prisma generate` never runs the schema engine, but the CLI insists on locating one; any
// path will do, and pointing at a harmless one stops it from trying to download the native
// engine (unreachable in many build environments).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ||= process.execPath;
execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
  cwd: path.resolve(__dirname, '..'),
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
});
