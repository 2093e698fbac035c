/**
 * Starts a TypeScript file as a child process, for crash and fuzz children. Campaigns start
 * hundreds of children, so each child file is bundled once per run into plain CommonJS
 * (scripts/reliability/.bundles/, with esbuild, which tsx brings) and started without a loader: about 5x faster
 * than tsx on a loaded machine. Without esbuild the child runs through `--import tsx` (not
 * `--require tsx/cjs`: under tap the child inherits an ESM `--import` hook in NODE_OPTIONS, so its
 * entry goes through the ESM loader, which only tsx's ESM hook teaches `.ts`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/**
 * Beside this file (git-ignored), so the bundled core finds the addon in build/Release by walking
 * up from its own directory, as from the sources. Not inside build/: `npm run build:native` wipes it.
 */
const BUNDLE_DIR = path.join(__dirname, '.bundles');
const bundles = new Map<string, string | null>();

interface EsbuildLike {
  buildSync(o: Record<string, unknown>): unknown;
}

/**
 * The bundled core looks for build/Release/mqlab_native.node above the bundle: give it a copy of
 * the addon, so a rebuild of build/ (by `npm run build:native`, which wipes it) during a long
 * campaign cannot pull the addon away. An older copy is kept while build/ is being rebuilt.
 */
function copyAddon(): boolean {
  const addon = path.join(REPO_ROOT, 'build', 'Release', 'mqlab_native.node');
  const copy = path.join(BUNDLE_DIR, 'build', 'Release', 'mqlab_native.node');
  try {
    if (!fs.existsSync(copy) || fs.statSync(copy).mtimeMs < fs.statSync(addon).mtimeMs) {
      fs.mkdirSync(path.dirname(copy), { recursive: true });
      fs.copyFileSync(addon, `${copy}.${process.pid}`);
      fs.renameSync(`${copy}.${process.pid}`, copy);
    }
  } catch {
    // build/ is being rebuilt right now: use the copy we have, if any.
  }
  return fs.existsSync(copy);
}

function bundleOf(file: string): string | null {
  const known = bundles.get(file);
  if (known !== undefined) return known;
  let out: string | null = path.join(BUNDLE_DIR, `${path.basename(file, '.ts')}-${process.pid}.js`);
  try {
    const esbuild = require('esbuild') as EsbuildLike;
    fs.mkdirSync(BUNDLE_DIR, { recursive: true });
    esbuild.buildSync({ entryPoints: [file], outfile: out, bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', logLevel: 'silent' });
    const written = out;
    process.once('exit', () => fs.rmSync(written, { force: true }));
    if (!copyAddon()) out = null;
  } catch {
    out = null;
  }
  bundles.set(file, out);
  return out;
}

export function spawnTs(file: string, args: readonly string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe'], env?: NodeJS.ProcessEnv): ChildProcess {
  const bundle = bundleOf(file);
  const argv = bundle ? [bundle, ...args] : ['--import', 'tsx', file, ...args];
  return spawn(process.execPath, argv, { stdio, env: env ?? process.env, cwd: REPO_ROOT });
}

/** Collects a child's stdout as complete lines; `onLine` sees each as it arrives. */
export function collectLines(child: ChildProcess, onLine?: (line: string) => void): { lines: string[]; stderr: () => string } {
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      onLine?.(l);
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (err.length < 20000) err += chunk;
  });
  return { lines, stderr: () => err };
}

export function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
