'use strict';
// Entry file for worker threads whose code is TypeScript (see worker-entry.ts): registers the
// tsx CommonJS hook, then loads the module named by the last argv entry and re-exports it, so
// piscina can find its task function.
if (/\.[cm]?ts$/.test(process.argv[process.argv.length - 1])) require('tsx/cjs/api').register();
module.exports = require(process.argv[process.argv.length - 1]);
