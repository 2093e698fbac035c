#!/usr/bin/env node
// Builds the addon offline: node-gyp (bundled with npm) against the Node headers already on
// this machine, never downloaded. Exits non-zero with the reason if the build fails.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const prefix = path.resolve(path.dirname(process.execPath), '..');
const nodedir = [process.env.npm_config_nodedir, prefix, '/usr', '/usr/local']
  .filter(Boolean)
  .find((dir) => fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
if (!nodedir) {
  console.error('mqlab: cannot find Node headers (include/node/node_api.h) next to ' + process.execPath +
    '; set npm_config_nodedir to a Node install prefix that has them.');
  process.exit(1);
}

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const npmCli = process.env.npm_execpath;
  if (npmCli) candidates.push(path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((p) => fs.existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) {
  console.error('mqlab: cannot find node-gyp (bundled with npm); set npm_config_node_gyp to its bin/node-gyp.js');
  process.exit(1);
}
const args = [gyp, 'rebuild', '--nodedir=' + nodedir, '--jobs=2'];
if (process.env.MQLAB_DEBUG_NATIVE) args.push('--debug');
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
