import path from 'node:path';

/**
 * How to start a worker thread (node:worker_threads or piscina) on a module that may be
 * TypeScript. mqlab runs from its .ts sources through tsx; a worker must load the tsx hook
 * before its module, and flags like `--import tsx` are not honoured the same way by workers on
 * Node 20, 22 and 24 (nor under test runners that preload ESM hooks). So every worker starts on
 * one small JS entry that registers the hook and then requires the real module (passed in argv).
 *
 *   new Worker(...Object.values(workerEntry(file)))      // or:
 *   const { filename, argv } = workerEntry(file); new Worker(filename, { argv, workerData })
 *   new Piscina({ ...workerEntry(file), ... })
 */
export function workerEntry(modulePath: string): { filename: string; argv: string[] } {
  return { filename: path.join(__dirname, 'ts-worker-entry.js'), argv: [path.resolve(modulePath)] };
}
