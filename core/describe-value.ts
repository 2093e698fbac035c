/**
 * A short description of any value for an error message. Never throws: String() does on a
 * detached typed array, a symbol in a template, or an object whose toString is not callable,
 * and JSON.stringify does on a bigint or a cycle, and a hostile argument must still get its
 * typed error.
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 300 ? `${v.slice(0, 300)}…` : v);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'bigint':
      return `${v.toString()}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      break;
  }
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return isDetached(v) ? `a detached ${v.constructor?.name ?? 'typed array'}` : `a ${v.constructor?.name ?? 'typed array'} of ${v.byteLength} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return 'an object';
}

/** True when a typed array's buffer was transferred away (reading or copying it throws). */
export function isDetached(v: ArrayBufferView): boolean {
  if (v.byteLength !== 0) return false;
  const buffer = v.buffer;
  if (buffer.byteLength !== 0 || !(buffer instanceof ArrayBuffer)) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}
