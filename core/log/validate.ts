/** Option checks for CommitLog and IndexFile, with the uniform messages of core/errors.ts. */
import { Errors } from '../errors';

/** A short description of any value, safe for objects without a prototype or with a throwing toString. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) return String(value);
  return typeof value;
}

export function optionalInteger(value: unknown, what: string, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw Errors.invalidArg(what, `an integer in [${min}, ${max}]`, { value: describe(value) });
  }
  return value;
}

export function requiredInteger(value: unknown, what: string, min: number, max: number): number {
  if (value === undefined) throw Errors.invalidArg(what, `given (an integer in [${min}, ${max}])`);
  return optionalInteger(value, what, min, max, 0);
}

export function checkObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw Errors.invalidArg(what, 'an object');
  return value as Record<string, unknown>;
}

export function checkKnownKeys(obj: Record<string, unknown>, what: string, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw Errors.invalidArg(`${what}.${key}`, `one of the known options (${known.join(', ')})`);
  }
}

export function checkPath(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
    throw Errors.invalidArg(what, 'a non-empty path string');
  }
  return value;
}
