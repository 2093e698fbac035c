#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the checkout needs no separate compile step.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const tsxCli = require.resolve('tsx/cli');
const r = spawnSync(process.execPath, [tsxCli, path.join(__dirname, 'mqlab.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
