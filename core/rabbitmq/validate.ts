import { AmqpErrors } from './amqp-errors';
import { describeValue, isDetached } from '../describe-value';
import type { FieldTable } from './types';

/**
 * Input checks for everything a client hands the engine. Each failure is a PRECONDITION_FAILED
 * (406) error naming the argument, raised before any state changes, so a bad call never leaves
 * a half-applied operation behind.
 */

/** AMQP short strings (names, routing keys) are at most 255 bytes of UTF-8. */
const SHORTSTR_MAX = 255;

export function checkShortString(what: string, value: unknown): string {
  if (typeof value !== 'string') throw AmqpErrors.invalidArg(what, `must be a string, got ${typeof value}`, { argument: what });
  // Fast path: pure ASCII strings are as long in bytes as in characters.
  if (value.length > SHORTSTR_MAX / 3 && Buffer.byteLength(value, 'utf8') > SHORTSTR_MAX) {
    throw AmqpErrors.invalidArg(what, `longer than ${SHORTSTR_MAX} bytes`, { argument: what });
  }
  return value;
}

/** Queue and exchange names: short strings without control characters. */
export function checkEntityName(kind: 'queue' | 'exchange', value: unknown): string {
  const name = checkShortString(`${kind} name`, value);
  if (/[\x00-\x1f\x7f]/.test(name)) throw AmqpErrors.invalidArg(`${kind} name`, 'contains control characters', { [kind]: name });
  return name;
}

/**
 * Header and argument values must be encodable as an AMQP field table: strings, numbers,
 * booleans, bigints, null/undefined, Dates, byte arrays, arrays and plain objects of those.
 */
export function checkFieldTable(what: string, table: unknown, depth = 0): FieldTable {
  if (table === null || typeof table !== 'object' || Array.isArray(table) || !isPlainObject(table)) {
    throw AmqpErrors.invalidArg(what, 'must be a plain object (an AMQP field table)', { argument: what });
  }
  for (const key of Object.keys(table)) {
    checkShortString(`${what} key`, key);
    checkFieldValue(`${what}[${JSON.stringify(key)}]`, (table as Record<string, unknown>)[key], depth + 1);
  }
  return table as FieldTable;
}

function checkFieldValue(what: string, v: unknown, depth: number): void {
  if (depth > 32) throw AmqpErrors.invalidArg(what, 'nested deeper than 32 levels', { argument: what });
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return;
    case 'object':
      if (v === null || v instanceof Date) return;
      if (v instanceof Uint8Array) {
        if (v.byteLength === 0 && isDetached(v)) throw AmqpErrors.invalidArg(what, 'a detached byte array cannot be sent', { argument: what });
        return;
      }
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) checkFieldValue(`${what}[${i}]`, v[i], depth + 1);
        return;
      }
      checkFieldTable(what, v, depth);
      return;
    default:
      throw AmqpErrors.invalidArg(what, `a ${typeof v} cannot be sent in an AMQP field table`, { argument: what });
  }
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function checkNonNegativeInteger(what: string, v: unknown, max = 2 ** 32 - 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw AmqpErrors.invalidArg(what, `must be an integer in [0, ${max}], got ${describeValue(v)}`, { argument: what });
  }
  return v;
}

export function checkBoolean(what: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw AmqpErrors.invalidArg(what, `must be a boolean, got ${typeof v}`, { argument: what });
  return v;
}

/** Message content: a Buffer or any byte array (copied or wrapped by the caller). */
export function checkContent(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.byteLength === 0 && isDetached(v)) throw AmqpErrors.invalidArg('content', 'its ArrayBuffer is detached (transferred away)', { argument: 'content' });
    return v;
  }
  throw AmqpErrors.invalidArg('content', `must be a Buffer or Uint8Array, got ${describeValue(v)}`, { argument: 'content' });
}

/** An options argument: undefined becomes {}, anything but a plain object is refused. */
export function checkOptions<T extends object>(what: string, v: T | undefined | null): T {
  if (v === undefined) return {} as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) throw AmqpErrors.invalidArg(what, `must be an object, got ${describeValue(v)}`, { argument: what });
  return v;
}
