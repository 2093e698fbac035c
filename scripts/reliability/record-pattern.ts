/**
 * The records the crash campaigns write: record i has a length and content that are a pure
 * function of i, so a reader can tell an intact record from a damaged, misplaced or invented one
 * without any side file.
 */

/** Payload length of record i: 8..(8 + spread - 1) bytes, varied so frames straddle segment ends. */
export function patternLength(i: number, spread = 300): number {
  return 8 + (Math.imul(i + 1, 2654435761) >>> 0) % spread;
}

export function patternPayload(i: number, spread = 300): Buffer {
  const len = patternLength(i, spread);
  const b = Buffer.allocUnsafe(len);
  b.writeUInt32LE(i >>> 0, 0);
  b.writeUInt32LE(len, 4);
  for (let k = 8; k < len; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

/** The index the payload claims, or -1 when it is not exactly the pattern of that index. */
export function patternIndex(payload: Uint8Array, spread = 300): number {
  if (payload.length < 8) return -1;
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const i = b.readUInt32LE(0);
  if (b.readUInt32LE(4) !== payload.length || patternLength(i, spread) !== payload.length) return -1;
  for (let k = 8; k < payload.length; k++) if (b[k] !== ((i * 31 + k * 7) & 0xff)) return -1;
  return i;
}
