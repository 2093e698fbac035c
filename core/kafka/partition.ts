import * as path from 'node:path';
import * as fs from 'node:fs';
import type { FlushPolicy, LogRecord } from '../log/types';
import { FRAME_HEADER_BYTES, frameBytes, framePayloadLength } from '../log/frame-layout';
import { openIndex, openLog, type PartitionIndex, type PartitionLog } from './storage';
import { batchBaseOffset, batchMaxTimestamp, batchNextOffset, batchRecordCount, firstOffsetAtOrAfter, isBatch } from './record-batch';
import { MqlabError } from '../errors';
import { PartitionShare } from './partition-share';
import { SegmentRoller } from './segment-roller';

/** Structured-clonable description of a partition for another thread (the SharedArrayBuffer is shared, not copied). */
export interface PartitionAttachInfo {
  topic: string;
  partition: number;
  logDir: string;
  share: SharedArrayBuffer;
  segmentBytes: number;
  maxBatchBytes: number;
  flush: FlushPolicy;
  /** segment.ms */
  segmentMs: number;
}

export interface PartitionOptions {
  segmentBytes: number;
  /** Largest batch the log accepts (bytes). */
  maxBatchBytes: number;
  retentionMs: number | undefined;
  retentionBytes: number | undefined;
  /** segment.ms: the active segment rolls once its first record is this old. */
  segmentMs: number;
  indexIntervalBytes: number;
  flush: FlushPolicy;
  clock: () => number;
}

/** A growable pair of f64 columns: the in-memory mirror of an index file. */
class IndexMirror {
  a = new Float64Array(64);
  b = new Float64Array(64);
  count = 0;
  push(x: number, y: number): void {
    if (this.count === this.a.length) {
      const a = new Float64Array(this.count * 2);
      a.set(this.a);
      this.a = a;
      const b = new Float64Array(this.count * 2);
      b.set(this.b);
      this.b = b;
    }
    this.a[this.count] = x;
    this.b[this.count] = y;
    this.count++;
  }
  /** Index of the last entry whose `a` is <= x (or < x when strict), or -1. `a` must be non-decreasing. */
  floor(x: number, strict: boolean): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.a[mid]!;
      if (strict ? v < x : v <= x) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}

const ENTRY_BYTES = 16;

/**
 * One partition: a commit log of record batches (record-batch.ts) plus two sparse indexes, as in
 * Kafka's log segments:
 *   offset.index  (baseOffset f64, position f64)      one entry per `indexIntervalBytes` of log
 *   time.index    (maxTimestampSoFar f64, lastOffset f64)  added when the max timestamp grows
 * Both are derived data: on open they are checked against the log and rebuilt from it where they
 * are missing, short or run past the log's recovered end.
 */
export class Partition {
  readonly log: PartitionLog;
  private readonly offsetIndex: PartitionIndex;
  private readonly timeIndex: PartitionIndex;
  private readonly offsets = new IndexMirror();
  private readonly times = new IndexMirror();
  private readonly entry = Buffer.alloc(ENTRY_BYTES);
  private readonly roller: SegmentRoller;
  /** Lock, next offset and append counter, shared with threads that append directly (attached-partition.ts). */
  readonly share = new PartitionShare();
  /** Log position up to which the indexes cover the log (appends by other threads are indexed lazily). */
  private indexedEnd = 0;
  /** catchUp's read buffer, made on first use. */
  private catchUpBuffer: Buffer | null = null;
  /** First offset still in the log (moves with retention). */
  logStartOffset = 0;
  private maxTimestamp = -Infinity;
  private bytesSinceOffsetEntry = 0;
  private bytesSinceTimeEntry = 0;
  private closed = false;

  private constructor(readonly topic: string, readonly id: number, readonly dir: string, private readonly options: PartitionOptions) {
    fs.mkdirSync(dir, { recursive: true });
    const retention: { maxAgeMs?: number; maxBytes?: number } = {};
    if (options.retentionMs !== undefined && options.retentionMs >= 0) retention.maxAgeMs = options.retentionMs;
    if (options.retentionBytes !== undefined && options.retentionBytes >= 0) retention.maxBytes = options.retentionBytes;
    this.log = openLog(path.join(dir, 'log'), {
      segmentBytes: options.segmentBytes,
      maxRecordBytes: options.maxBatchBytes,
      flush: options.flush,
      retention,
      clock: options.clock,
    });
    this.roller = new SegmentRoller(this.log, options.segmentMs);
    try {
      this.offsetIndex = openIndex(path.join(dir, 'offset.index'), ENTRY_BYTES);
      this.timeIndex = openIndex(path.join(dir, 'time.index'), ENTRY_BYTES);
    } catch (e) {
      this.log.close();
      throw e;
    }
    this.recover();
  }

  /** What a worker thread needs to append to / read this partition directly (see attached.ts). */
  attachInfo(): PartitionAttachInfo {
    return {
      topic: this.topic,
      partition: this.id,
      logDir: this.log.dir,
      share: this.share.sab,
      segmentBytes: this.options.segmentBytes,
      maxBatchBytes: this.options.maxBatchBytes,
      flush: this.options.flush,
      segmentMs: this.options.segmentMs,
    };
  }

  get maxBatchBytes(): number {
    return this.options.maxBatchBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  static open(topic: string, id: number, dir: string, options: PartitionOptions): Partition {
    return new Partition(topic, id, dir, options);
  }

  /** Loads the indexes, drops entries past the log's end, re-indexes the log's unindexed tail. */
  private recover(): void {
    const log = this.log;
    loadMirror(this.offsetIndex, this.offsets);
    loadMirror(this.timeIndex, this.times);
    let keep = this.offsets.count;
    while (keep > 0 && this.offsets.b[keep - 1]! >= log.endPosition) keep--;
    if (keep < this.offsets.count) {
      this.offsetIndex.truncate(keep);
      this.offsets.count = keep;
    }
    let scanFrom = log.startPosition;
    if (keep > 0 && this.offsets.b[keep - 1]! >= log.startPosition) scanFrom = this.offsets.b[keep - 1]!;
    // Scan the tail; entries already indexed are skipped by position.
    const lastIndexedPos = keep > 0 ? this.offsets.b[keep - 1]! : -1;
    const lastTimeOffset = this.times.count > 0 ? this.times.b[this.times.count - 1]! : -1;
    this.maxTimestamp = this.times.count > 0 ? this.times.a[this.times.count - 1]! : -Infinity;
    let pos = scanFrom;
    while (pos < log.endPosition) {
      const { records, next } = log.readBatch(pos, 1 << 20, 4096);
      if (records.length === 0) break;
      for (const r of records) {
        if (!isBatch(r.payload)) throw new MqlabError('ERR_CORRUPT', `${this.topic}-${this.id}: record at position ${r.position} is not a Kafka record batch`, { position: r.position });
        const base = batchBaseOffset(r.payload);
        const nextOffset = base + batchRecordCount(r.payload);
        if (r.position > lastIndexedPos) this.noteAppended(r.position, r.next - r.position, base, nextOffset, batchMaxTimestamp(r.payload), nextOffset - 1 > lastTimeOffset);
        this.nextOffset = nextOffset;
      }
      pos = next;
    }
    if (log.startPosition < log.endPosition) this.logStartOffset = batchBaseOffset(log.read(log.startPosition).payload);
    if (log.startPosition === log.endPosition) {
      // Empty log: continue after the last offset the indexes remember.
      const fromIndex = Math.max(this.times.count > 0 ? this.times.b[this.times.count - 1]! + 1 : 0, this.offsets.count > 0 ? this.offsets.a[this.offsets.count - 1]! : 0);
      this.nextOffset = Math.max(this.nextOffset, fromIndex);
      this.logStartOffset = this.nextOffset;
    }
    this.indexedEnd = log.endPosition;
    let tkeep = this.times.count;
    while (tkeep > 0 && this.times.b[tkeep - 1]! >= this.nextOffset) tkeep--;
    if (tkeep < this.times.count) {
      this.timeIndex.truncate(tkeep);
      this.times.count = tkeep;
      this.maxTimestamp = tkeep > 0 ? this.times.a[tkeep - 1]! : -Infinity;
    }
  }

  /** Index bookkeeping for a batch at `position` of `bytes` framed bytes. */
  private noteAppended(position: number, bytes: number, baseOffset: number, nextOffset: number, maxTs: number, mayIndexTime: boolean): void {
    if (this.offsets.count === 0 || this.bytesSinceOffsetEntry >= this.options.indexIntervalBytes) {
      this.offsets.push(baseOffset, position);
      this.entry.writeDoubleLE(baseOffset, 0);
      this.entry.writeDoubleLE(position, 8);
      this.offsetIndex.append(this.entry);
      this.bytesSinceOffsetEntry = 0;
    }
    this.bytesSinceOffsetEntry += bytes;
    this.bytesSinceTimeEntry += bytes;
    // An empty batch holds no record to find by time.
    if (nextOffset > baseOffset && maxTs > this.maxTimestamp) {
      this.maxTimestamp = maxTs;
      if (mayIndexTime && (this.times.count === 0 || this.bytesSinceTimeEntry >= this.options.indexIntervalBytes)) {
        this.times.push(maxTs, nextOffset - 1);
        this.entry.writeDoubleLE(maxTs, 0);
        this.entry.writeDoubleLE(nextOffset - 1, 8);
        this.timeIndex.append(this.entry);
        this.bytesSinceTimeEntry = 0;
      }
    }
  }

  /** Offset the next record gets (Kafka's log end offset; also the high watermark here). */
  get nextOffset(): number {
    return this.share.nextOffset;
  }

  private set nextOffset(v: number) {
    this.share.nextOffset = v;
  }

  /**
   * Appends an encoded batch (base offset filled in here). Returns the batch's base offset and log
   * position. The caller has validated the batch.
   */
  append(batch: Buffer, count: number, maxTimestamp: number): { baseOffset: number; position: number } {
    if (this.closed) throw new MqlabError('ERR_CLOSED', `partition ${this.topic}-${this.id} is closed`);
    const share = this.share;
    share.lock();
    let base: number;
    let position: number;
    try {
      this.roller.rollIfDue(this.options.clock());
      if (this.log.endPosition !== this.indexedEnd) this.catchUp();
      base = share.nextOffset;
      batch.writeDoubleLE(base, 8);
      position = this.log.append(batch, maxTimestamp);
      share.nextOffset = base + count;
      this.indexedEnd = this.log.endPosition;
    } finally {
      share.unlock();
    }
    share.appended();
    this.noteAppended(position, this.indexedEnd - position, base, base + count, maxTimestamp, true);
    return { baseOffset: base, position };
  }

  /** Indexes batches other threads appended since the indexes were last brought up to date. */
  private catchUp(): void {
    // The frames are read into one reused buffer and parsed in place (readBatchInto): a direct
    // consumer's group sync runs this every 200 ms over everything a worker appended meanwhile,
    // and a record object per batch made this thread's bursts longer and its garbage larger.
    const end = this.log.endPosition;
    let pos = this.indexedEnd;
    while (pos < end) {
      let buf = (this.catchUpBuffer ??= Buffer.allocUnsafeSlow(256 * 1024));
      let bytes = this.log.readBatchInto(pos, buf, buf.length, 4096);
      if (bytes < 0) {
        // One batch larger than the buffer: a buffer of its size for this read only.
        buf = Buffer.allocUnsafeSlow(-bytes);
        bytes = this.log.readBatchInto(pos, buf, buf.length, 4096);
      }
      if (bytes <= 0) break;
      for (let off = 0; off < bytes && pos < end; ) {
        const size = frameBytes(framePayloadLength(buf, off));
        const p = off + FRAME_HEADER_BYTES;
        const base = buf.readDoubleLE(p + 8);
        this.noteAppended(pos, size, base, base + buf.readUInt32LE(p + 4), buf.readDoubleLE(p + 24), true);
        off += size;
        pos += size;
        this.indexedEnd = pos;
      }
      pos = this.log.lastReadNext;
    }
  }

  /**
   * Log position of the batch that holds `offset` (logStartOffset <= offset < nextOffset), or the
   * log's end position when offset === nextOffset. The caller checks the range.
   */
  positionOf(offset: number): number {
    if (offset >= this.nextOffset) return this.log.endPosition;
    if (this.log.endPosition !== this.indexedEnd) this.catchUp();
    const i = this.offsets.floor(offset, false);
    let pos = i >= 0 ? this.offsets.b[i]! : this.log.startPosition;
    if (pos < this.log.startPosition) pos = this.log.startPosition;
    for (;;) {
      const { records, next } = this.log.readBatch(pos, 256 * 1024, 64);
      if (records.length === 0) return this.log.endPosition;
      for (const r of records) if (batchNextOffset(r.payload) > offset) return r.position;
      pos = next;
    }
  }

  /** Whole batches from `position` (a batch boundary), up to about maxBytes. */
  read(position: number, maxBytes: number): { records: LogRecord[]; next: number } {
    return this.log.readBatch(position, maxBytes);
  }

  /** Kafka's ListOffsets by timestamp: the first offset whose timestamp is >= `timestamp`, or null. */
  offsetForTimestamp(timestamp: number): number | null {
    if (this.log.endPosition !== this.indexedEnd) this.catchUp();
    const i = this.times.floor(timestamp, true);
    let from = i >= 0 ? this.times.b[i]! + 1 : this.logStartOffset;
    if (from < this.logStartOffset) from = this.logStartOffset;
    if (from >= this.nextOffset) return null;
    let pos = this.positionOf(from);
    while (pos < this.log.endPosition) {
      const { records, next } = this.log.readBatch(pos, 256 * 1024, 64);
      if (records.length === 0) break;
      for (const r of records) {
        const o = firstOffsetAtOrAfter(r.payload, timestamp);
        if (o >= 0 && o >= from) return o;
      }
      pos = next;
    }
    return null;
  }

  /** Deletes whole segments past retention; moves logStartOffset. Returns whether it moved. */
  applyRetention(now: number): boolean {
    // segment.ms: an active segment old enough rolls first, so its records can expire with it.
    if (!this.closed) {
      this.share.lock();
      try {
        this.roller.rollIfDue(now);
      } finally {
        this.share.unlock();
      }
    }
    const { deletedSegments } = this.log.applyRetention(now);
    if (deletedSegments === 0) return false;
    const before = this.logStartOffset;
    this.logStartOffset = this.log.startPosition < this.log.endPosition ? batchBaseOffset(this.log.read(this.log.startPosition).payload) : this.nextOffset;
    return this.logStartOffset !== before;
  }

  durable(position?: number): Promise<void> {
    return this.log.durable(position);
  }

  flushSync(): void {
    this.log.flushSync();
    this.offsetIndex.flushSync();
    this.timeIndex.flushSync();
  }

  close(): void {
    if (this.closed) return;
    try {
      if (this.log.endPosition !== this.indexedEnd) this.catchUp();
    } finally {
      this.closed = true;
    }
    try {
      this.offsetIndex.flushSync();
      this.timeIndex.flushSync();
    } finally {
      this.offsetIndex.close();
      this.timeIndex.close();
      this.log.close();
    }
  }
}

function loadMirror(index: PartitionIndex, mirror: IndexMirror): void {
  const n = index.count;
  if (n === 0) return;
  const buf = index.readRange(0, n);
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const a = buf.readDoubleLE(i * ENTRY_BYTES);
    const b = buf.readDoubleLE(i * ENTRY_BYTES + 8);
    // A torn or zero-filled tail entry ends the usable index; the rest is rebuilt from the log.
    if (!(a >= prev) || !Number.isFinite(a) || !Number.isFinite(b) || (i > 0 && a === 0 && b === 0)) {
      index.truncate(i);
      return;
    }
    prev = a;
    mirror.push(a, b);
  }
}
