/**
 * Builds a driver module from a DriverSpec in any thread. Drivers are loaded with `require`
 * (the project is CommonJS; under tsx and tap the TypeScript hook is active in worker threads
 * too), from an absolute path or a path relative to the repository root.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { MqlabError } from '../../core/errors';
import { isDriverModule, type DriverModule, type DriverSpec } from './driver';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** The file a spec's module names (tries .ts then .js when the name has no extension). */
export function resolveDriverPath(module: string): string {
  const base = isAbsolute(module) ? module : resolve(REPO_ROOT, module);
  for (const candidate of [base, `${base}.ts`, `${base}.js`, base.replace(/\.ts$/, '.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new MqlabError('ERR_DRIVER', `driver module ${module} not found (looked for ${base})`, { module });
}

export function loadDriverModule(spec: DriverSpec): DriverModule {
  const file = resolveDriverPath(spec.module);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: unknown = require(file);
  if (!isDriverModule(mod)) throw new MqlabError('ERR_DRIVER', `${spec.module} does not export createDriver(options)`, { module: spec.module });
  return mod;
}
