/**
 * Finds checks: every .ts / .js file in conformance/suites/cross/ and conformance/suites/<model>/
 * (sorted by name) that exports `checks` (an array of defineCheck results). Only checks whose
 * `model` matches are kept, so a cross-model file can export checks for all three models.
 * A file that fails to load becomes a load error the runner reports as a failed check, so one
 * broken suite file never hides the others.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelName } from '../adapters/common';
import type { AnyCheck, Check } from './framework/check';

export interface SuiteLoadError {
  file: string;
  message: string;
}

export interface LoadedChecks<M extends ModelName> {
  checks: Check<M>[];
  errors: SuiteLoadError[];
}

export const SUITES_DIR = __dirname;

function suiteFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => path.join(dir, f));
}

function isCheck(x: unknown): x is AnyCheck {
  const c = x as Record<string, unknown> | null;
  return !!c && typeof c === 'object' && typeof c.name === 'string' && typeof c.model === 'string' && typeof c.run === 'function';
}

export function loadChecks<M extends ModelName>(model: M, dirs: readonly string[] = [path.join(SUITES_DIR, 'cross'), path.join(SUITES_DIR, model)]): LoadedChecks<M> {
  const checks: Check<M>[] = [];
  const errors: SuiteLoadError[] = [];
  const seen = new Map<string, string>();
  for (const file of dirs.flatMap(suiteFiles)) {
    let mod: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(file) as Record<string, unknown>;
    } catch (e) {
      errors.push({ file, message: (e as Error).message.split('\n')[0]! });
      continue;
    }
    const list = mod.checks;
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isCheck(c)) {
        errors.push({ file, message: 'exports a `checks` entry that is not a check (needs name, model, run)' });
        continue;
      }
      if (c.model !== model) continue;
      const prior = seen.get(c.name);
      if (prior) {
        errors.push({ file, message: `check ${c.name} is also defined in ${prior}` });
        continue;
      }
      seen.set(c.name, file);
      checks.push(c as unknown as Check<M>);
    }
  }
  return { checks, errors };
}
