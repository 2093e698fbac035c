import type { IndexFileLike } from './storage';

/**
 * One ConsumeQueue: the index of one (topic, queueId) into the CommitLog. Entry n is the message
 * at queue offset n. Each entry is 20 bytes, big endian as in RocketMQ:
 *
 *   ┌──────────────────────┬─────────────┬──────────────────────┐
 *   │ CommitLog offset (8) │ size (4)    │ tag hash code (8)    │
 *   └──────────────────────┴─────────────┴──────────────────────┘
 *
 * The dispatcher stages entries and appends them in one call per round (`commitStaged`);
 * consumers see only committed entries (`maxOffset`). The newest entries dispatched since open
 * (up to CACHE_ENTRIES: 16 KiB per queue, allocated on its first entry) are also kept in memory,
 * so a consumer that keeps up scans them with no read from the file (a pull per message would
 * otherwise make a Buffer per pull).
 */
export const CQ_UNIT_SIZE = 20;
const STAGE_ENTRIES = 512;
const CACHE_ENTRIES = 1024;
const CACHE_MASK = CACHE_ENTRIES - 1;

export function writeInt64BE(buf: Buffer, off: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  buf.writeInt32BE(hi, off);
  buf.writeUInt32BE(value - hi * 4294967296, off + 4);
}

export function readInt64BE(buf: Buffer, off: number): number {
  return buf.readInt32BE(off) * 4294967296 + buf.readUInt32BE(off + 4);
}

/** A long-polling pull held on a queue until a message arrives. */
export interface ArrivalWaiter {
  onArrival(): void;
}

export interface CqEntry {
  position: number;
  size: number;
  tagsCode: number;
}

export class ConsumeQueue {
  private stage = Buffer.allocUnsafe(STAGE_ENTRIES * CQ_UNIT_SIZE);
  private readonly stageView = new DataView(this.stage.buffer, this.stage.byteOffset, this.stage.byteLength);
  private staged = 0;
  private oneEntry: Buffer | undefined;
  /** Entries in the file, kept here so the dispatcher does not ask the file for every message. */
  private fileCount: number;
  // Long-polling pull requests waiting for the next entry: slots [0, waiterCount) of `waiters`.
  // The arrays keep their length (a shrunk array reallocates on the next push, once per pull).
  private waiters: Array<ArrivalWaiter | undefined> = [];
  private waiterCount = 0;
  private spareWaiters: Array<ArrivalWaiter | undefined> = [];
  /** Entries from this queue offset on are in the cache (those dispatched since open or truncate). */
  private cacheFrom: number;
  private cachePositions: Float64Array | undefined;
  private cacheTags: Float64Array | undefined;
  /** Queue offset the next message put into this queue gets (assigned at put, before dispatch). */
  nextOffset = 0;

  constructor(readonly topic: string, readonly queueId: number, readonly file: IndexFileLike) {
    this.fileCount = file.count;
    this.cacheFrom = this.fileCount;
  }

  /** Next queue offset a consumer can read up to (exclusive). */
  get maxOffset(): number {
    return this.fileCount;
  }

  /** Entries dispatched, including staged ones not yet visible. */
  get dispatchedCount(): number {
    return this.fileCount + this.staged;
  }

  get minOffset(): number {
    return 0;
  }

  stageEntry(position: number, size: number, tagsCode: number): void {
    if (this.staged === STAGE_ENTRIES) this.commitStaged();
    const off = this.staged * CQ_UNIT_SIZE;
    const v = this.stageView;
    const posHi = Math.floor(position / 4294967296);
    v.setInt32(off, posHi);
    v.setUint32(off + 4, position - posHi * 4294967296);
    v.setInt32(off + 8, size);
    const tagHi = Math.floor(tagsCode / 4294967296);
    v.setInt32(off + 12, tagHi);
    v.setUint32(off + 16, tagsCode - tagHi * 4294967296);
    if (this.cachePositions === undefined) {
      this.cachePositions = new Float64Array(CACHE_ENTRIES);
      this.cacheTags = new Float64Array(CACHE_ENTRIES);
    }
    const at = (this.fileCount + this.staged) & CACHE_MASK;
    this.cachePositions[at] = position;
    this.cacheTags![at] = tagsCode;
    this.staged++;
  }

  get hasStaged(): boolean {
    return this.staged > 0;
  }

  commitStaged(): void {
    if (this.staged === 0) return;
    // A queue that keeps up commits one entry per round: its view is made once.
    const view = this.staged === 1 ? (this.oneEntry ??= this.stage.subarray(0, CQ_UNIT_SIZE)) : this.stage.subarray(0, this.staged * CQ_UNIT_SIZE);
    this.file.appendMany(view);
    this.fileCount += this.staged;
    this.staged = 0;
  }

  addWaiter(w: ArrivalWaiter): void {
    this.waiters[this.waiterCount++] = w;
  }

  /** Drops a waiter (its time is over); false if it is not waiting here. */
  removeWaiter(w: ArrivalWaiter): boolean {
    const list = this.waiters;
    for (let i = 0; i < this.waiterCount; i++) {
      if (list[i] !== w) continue;
      list[i] = list[--this.waiterCount];
      list[this.waiterCount] = undefined;
      return true;
    }
    return false;
  }

  get waiting(): number {
    return this.waiterCount;
  }

  /** Wakes the pull requests waiting on this queue (all are dropped from the waiters first). */
  notifyArrival(): void {
    const n = this.waiterCount;
    if (n === 0) return;
    const w = this.waiters;
    this.waiters = this.spareWaiters;
    this.waiterCount = 0;
    for (let i = 0; i < n; i++) {
      const waiter = w[i]!;
      w[i] = undefined;
      waiter.onArrival();
    }
    this.spareWaiters = w;
  }

  /** Is the entry at `offset` (committed) in the in-memory cache? */
  isCached(offset: number): boolean {
    // Staged entries take ring slots already, so the window ends at the dispatched count.
    return offset >= this.cacheFrom && offset >= this.fileCount + this.staged - CACHE_ENTRIES && offset < this.fileCount;
  }

  /** CommitLog position of a cached entry (check `isCached` first). */
  cachedPosition(offset: number): number {
    return this.cachePositions![offset & CACHE_MASK]!;
  }

  /** Tag hash code of a cached entry (check `isCached` first). */
  cachedTagsCode(offset: number): number {
    return this.cacheTags![offset & CACHE_MASK]!;
  }

  entry(offset: number): CqEntry {
    const b = this.file.read(offset);
    return { position: readInt64BE(b, 0), size: b.readInt32BE(8), tagsCode: readInt64BE(b, 12) };
  }

  /** Raw entries from `offset`, at most `count` (fewer at the end). */
  entries(offset: number, count: number): Buffer {
    const n = Math.min(count, this.maxOffset - offset);
    if (n <= 0) return Buffer.alloc(0);
    return this.file.readRange(offset, n);
  }

  truncate(count: number): void {
    this.staged = 0;
    this.file.truncate(count);
    this.fileCount = this.file.count;
    this.cacheFrom = this.fileCount;
  }

  close(): void {
    this.commitStaged();
    this.file.close();
  }
}
