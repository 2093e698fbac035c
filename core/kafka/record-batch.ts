import type { ConsumerRecord } from './types';

/**
 * The payload of one commit-log record: a batch of Kafka records written by one send to one
 * partition (as Kafka's own RecordBatch). The storage core sees opaque bytes; offsets live here, so a
 * reader that starts at any batch knows every record's offset without an index.
 *
 *   0        1        2          4              8              16               24              32
 *   +--------+--------+----------+--------------+--------------+----------------+---------------+
 *   | magic  | attrs  | reserved | recordCount  | baseOffset   | baseTimestamp  | maxTimestamp  |
 *   | u8 = 1 | u8     | u16      | u32          | f64          | f64            | f64           |
 *   +--------+--------+----------+--------------+--------------+----------------+---------------+
 *   then recordCount records, each:
 *     [timestamp f64]                      only when attrs & PER_RECORD_TIMESTAMPS
 *     [keyLength i32 (-1 = null)][key]
 *     [valueLength i32 (-1 = null)][value]
 *     [headerCount u16] then per header: [nameLength u16][name utf-8][valueLength i32 (-1 = null)][value]
 *
 * Numbers are little-endian; offsets and timestamps are f64 (exact integers below 2^53).
 */
export const BATCH_MAGIC = 1;
export const BATCH_HEADER_BYTES = 32;
export const PER_RECORD_TIMESTAMPS = 1;

/** Little-endian reads without Buffer's argument checks (the batch was framed and CRC-checked by the core). */
function i32(b: Buffer, pos: number): number {
  return b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24);
}
function u16(b: Buffer, pos: number): number {
  return b[pos]! | (b[pos + 1]! << 8);
}

const EMPTY_HEADERS: Readonly<Record<string, Buffer | null>> = Object.freeze({});

export function batchBaseOffset(payload: Buffer): number {
  return payload.readDoubleLE(8);
}
export function batchRecordCount(payload: Buffer): number {
  return payload.readUInt32LE(4);
}
export function batchMaxTimestamp(payload: Buffer): number {
  return payload.readDoubleLE(24);
}
/** Offset after the batch's last record. */
export function batchNextOffset(payload: Buffer, start = 0): number {
  return payload.readDoubleLE(start + 8) + payload.readUInt32LE(start + 4);
}

export function isBatch(payload: Buffer): boolean {
  return payload.length >= BATCH_HEADER_BYTES && payload[0] === BATCH_MAGIC;
}

/** Writes the batch header into `buf` at 0. */
export function writeBatchHeader(buf: Buffer, count: number, baseOffset: number, baseTimestamp: number, maxTimestamp: number, perRecordTimestamps: boolean): void {
  buf[0] = BATCH_MAGIC;
  buf[1] = perRecordTimestamps ? PER_RECORD_TIMESTAMPS : 0;
  buf.writeUInt16LE(0, 2);
  buf.writeUInt32LE(count, 4);
  buf.writeDoubleLE(baseOffset, 8);
  buf.writeDoubleLE(baseTimestamp, 16);
  buf.writeDoubleLE(maxTimestamp, 24);
}

/** The batch's records from `fromOffset` on, appended to `out` (at most `limit` of them). Returns how many were added. */
export function decodeBatch(payload: Buffer, topic: string, partition: number, fromOffset: number, out: ConsumerRecord[], limit: number): number {
  const count = payload.readUInt32LE(4);
  const base = payload.readDoubleLE(8);
  const baseTs = payload.readDoubleLE(16);
  const perRecordTs = (payload[1]! & PER_RECORD_TIMESTAMPS) !== 0;
  let pos = BATCH_HEADER_BYTES;
  let added = 0;
  for (let i = 0; i < count && added < limit; i++) {
    let ts = baseTs;
    if (perRecordTs) {
      ts = payload.readDoubleLE(pos);
      pos += 8;
    }
    const keyLen = i32(payload, pos);
    pos += 4;
    const keyStart = pos;
    if (keyLen > 0) pos += keyLen;
    const valueLen = i32(payload, pos);
    pos += 4;
    const valueStart = pos;
    if (valueLen > 0) pos += valueLen;
    const headerCount = u16(payload, pos);
    pos += 2;
    let headers = EMPTY_HEADERS;
    if (headerCount > 0) {
      const h: Record<string, Buffer | null> = {};
      for (let j = 0; j < headerCount; j++) {
        const nameLen = u16(payload, pos);
        pos += 2;
        const name = payload.toString('utf8', pos, pos + nameLen);
        pos += nameLen;
        const hLen = i32(payload, pos);
        pos += 4;
        h[name] = hLen < 0 ? null : payload.subarray(pos, pos + hLen);
        if (hLen > 0) pos += hLen;
      }
      headers = h;
    }
    const offset = base + i;
    if (offset < fromOffset) continue;
    out.push({
      topic,
      partition,
      offset,
      timestamp: ts,
      key: keyLen < 0 ? null : payload.subarray(keyStart, keyStart + keyLen),
      value: valueLen < 0 ? null : payload.subarray(valueStart, valueStart + valueLen),
      headers,
    });
    added++;
  }
  return added;
}

/** Called for each record by visitBatch: the value is payload[valueStart, valueStart + valueLength) (length -1: null). */
export type RecordVisitor = (payload: Buffer, valueStart: number, valueLength: number, offset: number, timestamp: number) => void;

/**
 * As decodeBatch, without building records: calls `visit` for each record from `fromOffset` on
 * (at most `limit`), for readers that only need values and allocate nothing per record. Returns
 * how many were visited.
 */
export function visitBatch(payload: Buffer, fromOffset: number, limit: number, visit: RecordVisitor): number {
  return visitBatchAt(payload, 0, fromOffset, limit, visit);
}

/** visitBatch for a batch that starts at `start` inside `payload` (value ranges are in payload's coordinates). */
export function visitBatchAt(payload: Buffer, start: number, fromOffset: number, limit: number, visit: RecordVisitor): number {
  const count = payload.readUInt32LE(start + 4);
  const base = payload.readDoubleLE(start + 8);
  const baseTs = payload.readDoubleLE(start + 16);
  const perRecordTs = (payload[start + 1]! & PER_RECORD_TIMESTAMPS) !== 0;
  let pos = start + BATCH_HEADER_BYTES;
  let visited = 0;
  for (let i = 0; i < count && visited < limit; i++) {
    let ts = baseTs;
    if (perRecordTs) {
      ts = payload.readDoubleLE(pos);
      pos += 8;
    }
    const keyLen = i32(payload, pos);
    pos += 4 + (keyLen > 0 ? keyLen : 0);
    const valueLen = i32(payload, pos);
    pos += 4;
    const valueStart = pos;
    if (valueLen > 0) pos += valueLen;
    const headerCount = u16(payload, pos);
    pos += 2;
    for (let j = 0; j < headerCount; j++) {
      pos += 2 + u16(payload, pos);
      const hLen = i32(payload, pos);
      pos += 4 + (hLen > 0 ? hLen : 0);
    }
    if (base + i < fromOffset) continue;
    visit(payload, valueStart, valueLen, base + i, ts);
    visited++;
  }
  return visited;
}

/**
 * First offset in the batch whose timestamp is >= `timestamp`, or -1. Used by offsetsForTimes after
 * the time index has narrowed the search to a few batches.
 */
export function firstOffsetAtOrAfter(payload: Buffer, timestamp: number): number {
  const count = payload.readUInt32LE(4);
  const base = payload.readDoubleLE(8);
  if (count === 0 || payload.readDoubleLE(24) < timestamp) return -1;
  if ((payload[1]! & PER_RECORD_TIMESTAMPS) === 0) return payload.readDoubleLE(16) >= timestamp ? base : -1;
  let pos = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const ts = payload.readDoubleLE(pos);
    if (ts >= timestamp) return base + i;
    pos += 8;
    const keyLen = payload.readInt32LE(pos);
    pos += 4 + Math.max(0, keyLen);
    const valueLen = payload.readInt32LE(pos);
    pos += 4 + Math.max(0, valueLen);
    const headerCount = payload.readUInt16LE(pos);
    pos += 2;
    for (let j = 0; j < headerCount; j++) {
      pos += 2 + payload.readUInt16LE(pos);
      const hLen = payload.readInt32LE(pos);
      pos += 4 + Math.max(0, hLen);
    }
  }
  return -1;
}
