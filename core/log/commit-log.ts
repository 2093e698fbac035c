/**
 * CommitLog: a segmented, memory-mapped append-only log (native/log.cc does the work). This class
 * checks options, turns positions and frames into LogRecords, and keeps the promises of
 * `write` / `durable`. The record layout is drawn in native/frame.h; the guarantees of each flush
 * policy are in docs/api.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Errors, MqlabError } from '../errors';
import { FRAME_HEADER_BYTES, frameBytes, framePayloadLength, frameTimestamp } from './frame-layout';
import { nativeAddon, type NativeLog } from './native';
import { checkKnownKeys, checkObject, checkPath, describe, optionalInteger } from './validate';
import type { AppendMode, CommitLogOptions, FlushPolicy, LogRecord, RecoveryReport } from './types';

const FLUSH_CODES: Record<FlushPolicy, number> = { none: 0, async: 1, sync: 2 };
const OPTION_KEYS = ['segmentBytes', 'maxRecordBytes', 'flush', 'flushIntervalMs', 'flushBytes', 'retention', 'clock', 'appendMode'] as const;
const APPEND_MODE_CODES: Record<AppendMode, number> = { ordered: 0, chunked: 1 };
const MiB = 1024 * 1024;
/** Per segment: a 64-byte header, and room for the 16-byte END marker after the last frame. */
const SEGMENT_OVERHEAD = 64 + 16;
const MAX_PAYLOAD = 16 * MiB - 1;
const SCAN_BATCH_BYTES = 256 * 1024;
/** Payloads up to this size are read through a per-log scratch buffer into a pooled Buffer. */
const READ_SCRATCH_BYTES = 4096;
/** appendBatch stages batches up to these sizes in one buffer (see appendBatch). */
const STAGING_MAX_BYTES = 8 * MiB;
const STAGING_MAX_RECORDS = 65536;
const EMPTY_STAGING = Buffer.alloc(0);
/**
 * %TypedArray%.prototype.set, called as `copyInto.call(target, source, offset)`. Optimised code
 * does not fold `target.set` to a constant on a typed array: each call site would pay a generic
 * property lookup (~3 ns, a quarter of appendBatch's per-record staging cost for 100 B records).
 */
const copyInto = Uint8Array.prototype.set;

/** A positive integer limit; Infinity means no limit. */
function limit(value: number, what: string): number {
  if (value === Infinity) return Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw Errors.invalidArg(what, 'a positive integer or Infinity');
  return value;
}

interface Waiter {
  /** Resolved once the durable position is at least this. */
  need: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

interface ResolvedOptions {
  segmentBytes: number;
  maxRecordBytes: number;
  flush: FlushPolicy;
  flushIntervalMs: number;
  flushBytes: number;
  maxAgeMs: number;
  maxBytes: number;
  clock: (() => number) | undefined;
  appendMode: AppendMode;
}

function resolveOptions(options: unknown): ResolvedOptions {
  const o = checkObject(options, 'options');
  checkKnownKeys(o, 'options', OPTION_KEYS);
  const segmentBytes = optionalInteger(o.segmentBytes, 'options.segmentBytes', 4096, 2 ** 32, 64 * MiB);
  const fits = Math.min(MAX_PAYLOAD, segmentBytes - SEGMENT_OVERHEAD - FRAME_HEADER_BYTES - 7);
  const maxRecordBytes = optionalInteger(o.maxRecordBytes, 'options.maxRecordBytes', 0, MAX_PAYLOAD, Math.min(4 * MiB, fits));
  if (frameBytes(maxRecordBytes) + SEGMENT_OVERHEAD > segmentBytes) {
    throw Errors.invalidArg('options.maxRecordBytes', `at most ${fits} so that one framed record fits in options.segmentBytes (${segmentBytes})`);
  }
  const flush = o.flush === undefined ? 'none' : o.flush;
  if (flush !== 'none' && flush !== 'async' && flush !== 'sync') {
    throw Errors.invalidArg('options.flush', "'none', 'async' or 'sync'", { value: describe(flush) });
  }
  const flushIntervalMs = optionalInteger(o.flushIntervalMs, 'options.flushIntervalMs', 1, 2 ** 31 - 1, 1000);
  const flushBytes = optionalInteger(o.flushBytes, 'options.flushBytes', 1, Number.MAX_SAFE_INTEGER, 16 * MiB);
  const retention = checkObject(o.retention, 'options.retention');
  checkKnownKeys(retention, 'options.retention', ['maxAgeMs', 'maxBytes']);
  const maxAgeMs = optionalInteger(retention.maxAgeMs, 'options.retention.maxAgeMs', 0, Number.MAX_SAFE_INTEGER, -1);
  const maxBytes = optionalInteger(retention.maxBytes, 'options.retention.maxBytes', 0, Number.MAX_SAFE_INTEGER, -1);
  if (o.clock !== undefined && typeof o.clock !== 'function') throw Errors.invalidArg('options.clock', 'a function returning ms since the epoch');
  const appendMode = o.appendMode === undefined ? 'ordered' : o.appendMode;
  if (appendMode !== 'ordered' && appendMode !== 'chunked') {
    throw Errors.invalidArg('options.appendMode', "'ordered' or 'chunked'", { value: describe(appendMode) });
  }
  return { segmentBytes, maxRecordBytes, flush, flushIntervalMs, flushBytes, maxAgeMs, maxBytes, clock: o.clock as (() => number) | undefined, appendMode };
}

function prepareDirectory(dir: string): string {
  try {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      // A recursive mkdir reports ENOENT on a read-only file system; a plain one says EROFS.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(path.dirname(dir))) fs.mkdirSync(dir);
      throw e;
    }
    const real = fs.realpathSync(dir);
    if (!fs.statSync(real).isDirectory()) throw new MqlabError('ERR_IO', `${dir} is not a directory`);
    return real;
  } catch (e) {
    if (e instanceof MqlabError) throw e;
    const err = e as NodeJS.ErrnoException;
    const code = err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'EPERM' ? 'ERR_READ_ONLY'
      : err.code === 'ENOSPC' ? 'ERR_NO_SPACE' : 'ERR_IO';
    throw new MqlabError(code, `cannot open log directory ${dir}: ${err.message}`, { errno: err.code });
  }
}

export class CommitLog {
  /** The directory as given to open(), made absolute. */
  readonly dir: string;
  /** What open() found: where the valid log ends, bytes cut from a torn tail, damaged frames. */
  readonly recovery: RecoveryReport;
  readonly #n: NativeLog;
  /** appendBatch's staging area, allocated on first use and grown to the largest batch seen. */
  #staging = EMPTY_STAGING;
  #stagingLengths = new Uint32Array(0);
  readonly #counters: Float64Array;
  /** [timestamp, next] of the last read, written by the addon. */
  readonly #scratch: Float64Array;
  /** The last read's payload when it is small (see native read). */
  readonly #scratchBytes: Buffer;
  readonly #options: ResolvedOptions;
  readonly #clock: (() => number) | undefined;
  #waiters: Waiter[] = [];
  #closed = false;

  private constructor(dir: string, native: NativeLog, scratch: Float64Array, scratchBytes: Buffer, options: ResolvedOptions) {
    this.dir = dir;
    this.#scratch = scratch;
    this.#scratchBytes = scratchBytes;
    this.#n = native;
    this.#counters = native.counters;
    this.#options = options;
    this.#clock = options.clock;
    this.recovery = native.recovery;
  }

  /**
   * Opens (creating if missing) the log directory, takes the single-writer lock (another process
   * gets ERR_LOCKED; worker threads of this process share one native log) and recovers the tail.
   */
  static open(dir: string, options?: CommitLogOptions): CommitLog {
    const absolute = path.resolve(checkPath(dir, 'dir'));
    const o = resolveOptions(options);
    const real = prepareDirectory(absolute);
    const scratch = new Float64Array(3);
    const scratchBytes = Buffer.alloc(READ_SCRATCH_BYTES);
    let log: CommitLog | undefined;
    const native = nativeAddon().openLog(real, o.segmentBytes, o.maxRecordBytes, FLUSH_CODES[o.flush], o.flushIntervalMs,
      o.flushBytes, scratch, (durable, error) => log?.onDurable(durable, error), scratchBytes, APPEND_MODE_CODES[o.appendMode]);
    log = new CommitLog(absolute, native, scratch, scratchBytes, o);
    return log;
  }

  /** First retained position (moves forward with retention). */
  get startPosition(): number {
    this.#checkOpen();
    return this.#counters[1]!;
  }

  /**
   * Where the readable log ends: the position the next ordered append gets. While a handle in
   * appendMode 'chunked' has a chunk open, it is the start of the oldest open chunk.
   */
  get endPosition(): number {
    this.#checkOpen();
    return this.#counters[0]!;
  }

  /**
   * Past everything appended, including chunks still open (appendMode 'chunked'); equal to
   * endPosition when none is. A native call that takes the append lock: not for hot loops.
   */
  get tailPosition(): number {
    this.#checkOpen();
    return this.#n.tailPosition();
  }

  /** Everything before this position is durable (survives a machine crash). */
  get durablePosition(): number {
    this.#checkOpen();
    return this.#counters[2]!;
  }

  /** The flush policy the log was opened with. */
  get flushPolicy(): FlushPolicy {
    return this.#options.flush;
  }

  /**
   * Appends one record and returns its position. In appendMode 'ordered' it is readable at once by
   * every thread of this process; in 'chunked', see CommitLogOptions.appendMode.
   */
  append(payload: Uint8Array, timestamp?: number): number {
    if (timestamp !== undefined) return this.#n.append(payload, timestamp);
    const clock = this.#clock;
    // Without a timestamp argument the addon reads the wall clock itself (cheaper than Date.now()).
    return clock ? this.#n.append(payload, clock()) : this.#n.append(payload);
  }

  /** Appends many records in one native call, contiguously. Returns the first record's position. */
  appendBatch(payloads: readonly Uint8Array[], timestamp?: number): number {
    const clock = this.#options.clock;
    const ts = timestamp === undefined && clock ? clock() : timestamp;
    // Copying the payloads into one staging buffer here costs less than the addon fetching each
    // array element through N-API (~3x less per record for 100-byte records). Anything unusual
    // (a non-Uint8Array, an oversized record, a batch bigger than the staging cap) takes the
    // addon's element-by-element path, which also gives the exact error.
    if (!Array.isArray(payloads)) return this.#n.appendBatch(payloads, ts);
    const n = payloads.length;
    if (n === 0 || n > STAGING_MAX_RECORDS) return this.#n.appendBatch(payloads, ts);
    const max = this.#options.maxRecordBytes;
    let staging = this.#staging;
    if (this.#stagingLengths.length < n) this.#stagingLengths = new Uint32Array(Math.max(n, 1024));
    const lengths = this.#stagingLengths;
    let off = 0;
    for (let i = 0; i < n; i++) {
      const p = payloads[i];
      if (!(p instanceof Uint8Array) || p.length > max) return this.#n.appendBatch(payloads, ts);
      const end = off + p.length;
      if (end > staging.length) {
        if (end > STAGING_MAX_BYTES) return this.#n.appendBatch(payloads, ts);
        const grown = Buffer.allocUnsafe(Math.min(STAGING_MAX_BYTES, Math.max(end, 64 * 1024, staging.length * 2)));
        grown.set(staging.subarray(0, off));
        this.#staging = staging = grown;
      }
      copyInto.call(staging, p, off);
      lengths[i] = p.length;
      off = end;
    }
    return this.#n.appendPacked(staging, lengths, n, ts);
  }

  /**
   * Appends `lengths.length` records laid end to end in `bytes` (record i is `lengths[i]` bytes;
   * the lengths sum to `bytes.length`), contiguously, in one native call with no per-record JS
   * value: the fastest way in for a producer that already batches into one buffer. Returns the
   * first record's position.
   */
  appendPacked(bytes: Uint8Array, lengths: Uint32Array, timestamp?: number): number {
    const clock = this.#options.clock;
    return this.#n.appendPacked(bytes, lengths, undefined, timestamp === undefined && clock ? clock() : timestamp);
  }


  /** Appends; under flush 'sync' the promise resolves once the record is durable, else at once. */
  write(payload: Uint8Array, timestamp?: number): Promise<number> {
    let position: number;
    try {
      position = this.append(payload, timestamp);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#options.flush !== 'sync') return Promise.resolve(position);
    return this.#waitDurable(position + 1).then(() => position);
  }

  /** Resolves once everything up to and including the record at `position` (default: all appended) is durable. */
  durable(position?: number): Promise<void> {
    if (this.#closed) return Promise.reject(Errors.closed('CommitLog'));
    // The tail (a native call that takes the append lock) only when the readable end does not
    // settle it: records behind chunks still open (appendMode 'chunked') count as appended.
    if (position === undefined) {
      const tail = this.tailPosition;
      return tail === 0 ? Promise.resolve() : this.#waitDurable(tail);
    }
    if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
      return Promise.reject(Errors.invalidArg('position', 'a non-negative integer'));
    }
    if (position < this.#counters[0]!) return this.#waitDurable(position + 1);
    const end = this.tailPosition;
    if (position >= end) {
      return Promise.reject(new MqlabError('ERR_OUT_OF_RANGE', `position ${position} has not been appended (end ${end})`, { position }));
    }
    return this.#waitDurable(position + 1);
  }

  #waitDurable(need: number): Promise<void> {
    if (this.#counters[2]! >= need) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ need, resolve, reject });
      this.#n.requestDurable(need - 1);
    });
  }

  private onDurable(durable: number, error?: string): void {
    if (error !== undefined) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(new MqlabError('ERR_IO', `flush failed: ${error}`));
    } else {
      this.#settle(durable);
    }
    if (this.#waiters.length === 0 && !this.#closed) this.#n.idle();
  }

  #settle(durable: number): void {
    if (this.#waiters.length === 0) return;
    const left: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.need <= durable) w.resolve();
      else left.push(w);
    }
    this.#waiters = left;
  }

  /** Blocks until everything appended is durable. */
  flushSync(): void {
    this.#n.flushSync();
    this.#settle(this.#counters[2]!);
  }

  /** One record. ERR_OUT_OF_RANGE if no record starts at `position`, ERR_CORRUPT on a checksum mismatch. */
  read(position: number): LogRecord {
    const got = this.#n.read(position);
    let payload: Buffer;
    if (typeof got === 'number') {
      payload = Buffer.allocUnsafe(got);
      this.#scratchBytes.copy(payload, 0, 0, got);
    } else {
      payload = got;
    }
    const s = this.#scratch;
    return { position, next: s[1]!, timestamp: s[0]!, payload };
  }

  /**
   * Whole records from `position` (a record start, or endPosition for an empty batch), up to
   * `maxBytes` of framed bytes (at least one record if there is one) and `maxRecords`. Payloads
   * are views into one buffer per batch. A batch ends where the log has padding (the unused end
   * of a chunk, see appendMode); a batch that starts there is empty with `next` past it, so
   * continue from `next` until it stops moving.
   */
  readBatch(position: number, maxBytes = MiB, maxRecords = Number.MAX_SAFE_INTEGER): { records: LogRecord[]; next: number } {
    const buf = this.#n.readBatch(position, limit(maxBytes, 'maxBytes'), limit(maxRecords, 'maxRecords'));
    const next = this.#scratch[1]!;
    const records: LogRecord[] = [];
    let off = 0;
    let pos = position;
    while (off < buf.length) {
      const len = framePayloadLength(buf, off);
      const timestamp = frameTimestamp(buf, off);
      const bytes = frameBytes(len);
      records.push({ position: pos, next: pos + bytes, timestamp, payload: buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len) });
      off += bytes;
      pos += bytes;
    }
    // The last record's next skips padding after it, as read's does.
    if (records.length > 0) records[records.length - 1]!.next = next;
    return { records, next };
  }

  /**
   * As readBatch, without allocating: copies the records' frames (each a 16-byte header, whose
   * first 4 bytes hold the payload length in their low 24 bits and bytes 8-15 the timestamp, then
   * the payload, padded to 8 bytes) into `target` from its start, at most `maxBytes` and
   * target.length bytes of them, and returns how many bytes it wrote; `lastReadNext` is then the
   * position after them. If the record at `position` alone is larger than target, nothing is
   * written and the result is minus its frame size (grow target and read again). 0 at the end.
   */
  readBatchInto(position: number, target: Uint8Array, maxBytes = MiB, maxRecords = Number.MAX_SAFE_INTEGER): number {
    if (!(target instanceof Uint8Array) || target.length === 0) throw Errors.invalidArg('target', 'a non-empty Uint8Array');
    return this.#n.readBatchInto(position, limit(maxBytes, 'maxBytes'), limit(maxRecords, 'maxRecords'), target);
  }

  /** The position after the records of the last read on this handle (read, readBatch or readBatchInto). */
  get lastReadNext(): number {
    return this.#scratch[1]!;
  }

  /** Forward scan from `from` (default startPosition) to the end as of each step. */
  *records(from?: number): IterableIterator<LogRecord> {
    let position = from === undefined ? this.startPosition : from;
    for (;;) {
      const { records, next } = this.readBatch(position, SCAN_BATCH_BYTES);
      if (records.length === 0 && next === position) return;
      yield* records;
      position = next;
    }
  }

  /** Deletes whole segments past the retention options (age by the clock, or `now`). Never the active segment. */
  applyRetention(now?: number): { deletedSegments: number; startPosition: number } {
    this.#checkOpen();
    const o = this.#options;
    const at = now === undefined ? (o.clock ? o.clock() : Date.now()) : now;
    const deletedSegments = this.#n.applyRetention(at, o.maxAgeMs, o.maxBytes);
    return { deletedSegments, startPosition: this.#counters[1]! };
  }

  /**
   * Seals the active segment now, if it holds any record, so the next append starts a new one;
   * returns whether it did. Retention only ever deletes sealed segments: a model that rolls by
   * age (Kafka's segment.ms) calls this so that old records in a quiet log can expire.
   */
  roll(): boolean {
    return this.#n.roll();
  }

  /** Position where the active segment starts: its first record, if it has one, is there. */
  get activeSegmentStart(): number {
    return this.#n.activeSegmentBase();
  }

  /** Number of segment files (for tests and tools). */
  segmentCount(): number {
    return this.#n.segmentCount();
  }

  /** Idempotent. Pending `durable` promises reject with ERR_CLOSED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#n.close();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(Errors.closed('CommitLog'));
  }

  #checkOpen(): void {
    if (this.#closed) throw Errors.closed('CommitLog');
  }
}
