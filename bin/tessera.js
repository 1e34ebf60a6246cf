#!/usr/bin/env node
// The `tessera` CLI: runs scripts/cli.ts through tsx (TypeScript sources, no build step).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const tsx = require.resolve('tsx/cli');
const res = spawnSync(
  process.execPath,
  [tsx, path.join(__dirname, '..', 'scripts', 'cli.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
