import type { FieldValue } from './types';

/**
 * A canonical string for a field value: equal tables give equal strings whatever their key
 * order. Used to compare declaration arguments and to identify bindings.
 */
export function canonical(v: FieldValue): string {
  if (v === undefined) return 'u';
  if (v === null) return 'n';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return `d${v}`;
    case 'boolean':
      return v ? 't' : 'f';
    case 'bigint':
      return `d${v}`;
    default:
      break;
  }
  if (v instanceof Date) return `T${v.getTime()}`;
  if (v instanceof Uint8Array) return `x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, FieldValue>)[k])}`).join(',')}}`;
}
