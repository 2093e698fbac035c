import type { Bytes, Headers, Message } from './types';
import { BATCH_HEADER_BYTES, writeBatchHeader } from './record-batch';
import { KafkaErrors } from './errors';

/**
 * Encodes the records of one send into record batches (layout in record-batch.ts), reusing one
 * scratch buffer so the per-record path allocates nothing: the storage core copies the bytes on
 * append, so the scratch is free again as soon as append returns.
 */
export function byteLengthOf(b: Bytes | null | undefined): number {
  if (b === null || b === undefined) return -1;
  if (typeof b === 'string') return Buffer.byteLength(b, 'utf8');
  if (b instanceof Uint8Array) {
    if (b.length === 0 && isDetached(b)) throw KafkaErrors.invalidRecord('a key, value or header value is a Uint8Array whose ArrayBuffer was transferred (detached)');
    return b.length;
  }
  throw KafkaErrors.invalidRecord(`key, value and header values must be a Buffer, Uint8Array, string or null, got ${typeof b}`);
}

/** A view over a detached ArrayBuffer reads as empty, but copying from it throws; making a view over it throws on every Node version. */
function isDetached(b: Uint8Array): boolean {
  try {
    new Uint8Array(b.buffer, b.byteOffset, 0);
    return false;
  } catch {
    return true;
  }
}

/** Encoded bytes of a record's headers (the u16 count included), validating them. */
export function headersByteLength(headers: Headers | undefined): number {
  if (headers === undefined || headers === null) return 2;
  if (typeof headers !== 'object') throw KafkaErrors.invalidRecord('headers must be an object of name → value');
  let n = 2;
  let count = 0;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    const nameLen = Buffer.byteLength(name, 'utf8');
    if (nameLen > 0xffff) throw KafkaErrors.invalidRecord('a header name is longer than 65535 bytes');
    n += 2 + nameLen + 4 + Math.max(0, byteLengthOf(v));
    count++;
  }
  if (count > 0xffff) throw KafkaErrors.invalidRecord('more than 65535 headers');
  return n;
}

export class BatchEncoder {
  private scratch = Buffer.allocUnsafe(1 << 16);
  /** encodeFixed's views of the scratch by length (cleared whenever the scratch is replaced). */
  private readonly fixedViews = new Map<number, Buffer>();

  /**
   * Encodes messages[order[from..to)] (or messages[from..to) when order is null) as one batch whose
   * base offset is left 0 for the partition to fill in. `sizes[i]` is message i's encoded size without
   * the per-record timestamp. Returns a view of the scratch buffer valid until the next encode.
   */
  encode(messages: readonly Message[], order: Int32Array | null, from: number, to: number, sizes: Int32Array, perRecordTs: boolean, defaultTs: number): { bytes: Buffer; maxTimestamp: number } {
    let total = BATCH_HEADER_BYTES;
    for (let j = from; j < to; j++) total += sizes[order === null ? j : order[j]!]! + (perRecordTs ? 8 : 0);
    if (this.scratch.length < total) {
      this.scratch = Buffer.allocUnsafe(Math.max(total, this.scratch.length * 2));
      this.fixedViews.clear();
    }
    const buf = this.scratch;
    let pos = BATCH_HEADER_BYTES;
    let maxTs = defaultTs;
    let baseTs = defaultTs;
    for (let j = from; j < to; j++) {
      const m = messages[order === null ? j : order[j]!]!;
      if (perRecordTs) {
        const ts = m.timestamp === undefined ? defaultTs : m.timestamp;
        if (j === from) {
          baseTs = ts;
          maxTs = ts;
        } else if (ts > maxTs) maxTs = ts;
        buf.writeDoubleLE(ts, pos);
        pos += 8;
      }
      pos = writeBytes(buf, pos, m.key);
      pos = writeBytes(buf, pos, m.value);
      const headers = m.headers;
      if (headers === undefined || headers === null) {
        buf.writeUInt16LE(0, pos);
        pos += 2;
      } else {
        const countAt = pos;
        pos += 2;
        let count = 0;
        for (const name in headers) {
          const v = headers[name];
          if (v === undefined) continue;
          const nameLen = buf.write(name, pos + 2, 'utf8');
          buf.writeUInt16LE(nameLen, pos);
          pos = writeBytes(buf, pos + 2 + nameLen, v);
          count++;
        }
        buf.writeUInt16LE(count, countAt);
      }
    }
    writeBatchHeader(buf, to - from, 0, baseTs, maxTs, perRecordTs);
    return { bytes: buf.subarray(0, pos), maxTimestamp: maxTs };
  }

  /**
   * Encodes values [from, to) of `data` (back to back, `size` bytes each) as keyless records
   * without headers, all stamped `ts`: what `encode` writes for such messages, with nothing
   * allocated per record. Returns a view of the scratch buffer valid until the next encode.
   */
  encodeFixed(data: Uint8Array, from: number, to: number, size: number, ts: number): Buffer {
    const total = BATCH_HEADER_BYTES + (to - from) * fixedRecordBytes(size);
    if (this.scratch.length < total) {
      this.scratch = Buffer.allocUnsafe(Math.max(total, this.scratch.length * 2));
      this.fixedViews.clear();
    }
    const buf = this.scratch;
    let pos = BATCH_HEADER_BYTES;
    for (let j = from; j < to; j++) {
      buf.writeInt32LE(-1, pos);
      buf.writeInt32LE(size, pos + 4);
      copyBytes(data, j * size, buf, pos + 8, size);
      pos += 8 + size;
      buf.writeUInt16LE(0, pos);
      pos += 2;
    }
    writeBatchHeader(buf, to - from, 0, ts, ts, false);
    // The view of the first `pos` bytes, made once per length (a fixed-rate sender repeats a few
    // lengths; a new view per send was a good part of its garbage).
    let view = this.fixedViews.get(pos);
    if (view === undefined) {
      if (this.fixedViews.size >= 256) this.fixedViews.clear();
      this.fixedViews.set(pos, (view = buf.subarray(0, pos)));
    }
    return view;
  }
}

/**
 * Copies `n` bytes: a loop for small values, because Buffer#copy and TypedArray#set of a part of
 * a buffer allocate a view per call (the garbage of one per record adds up at high rates).
 */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n > 512) {
    dst.set(src.subarray(from, from + n), to);
    return;
  }
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}

/** Bytes of a keyless, header-less record of a `size`-byte value (without a per-record timestamp). */
export function fixedRecordBytes(size: number): number {
  return 4 + 4 + size + 2;
}

function writeBytes(buf: Buffer, pos: number, b: Bytes | null | undefined): number {
  if (b === null || b === undefined) {
    buf.writeInt32LE(-1, pos);
    return pos + 4;
  }
  if (typeof b === 'string') {
    const n = buf.write(b, pos + 4, 'utf8');
    buf.writeInt32LE(n, pos);
    return pos + 4 + n;
  }
  buf.writeInt32LE(b.length, pos);
  buf.set(b, pos + 4);
  return pos + 4 + b.length;
}
