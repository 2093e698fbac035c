/** Machine and version metadata stamped on every results file. */
import { cpus, hostname, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResultsFile } from './result';

export function machineInfo(): ResultsFile['machine'] {
  const c = cpus();
  return { hostname: hostname(), platform: process.platform, arch: process.arch, cpus: c.length, cpuModel: (c[0]?.model ?? 'unknown').trim(), memBytes: totalmem() };
}

export function versionInfo(): ResultsFile['versions'] {
  let mqlab = 'unknown';
  try {
    mqlab = (JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    // A results file without the package version is still useful; say "unknown".
  }
  return { mqlab, node: process.version, v8: process.versions.v8 };
}
