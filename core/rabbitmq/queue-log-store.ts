import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMqlabError, MqlabError } from '../errors';
import { CommitLog, IndexFile } from '../log';
import type { FlushPolicy } from '../log/types';
import { EntryState, type QueueEntry } from './message';
import { decodeMessage, encodeMessage } from './message-codec';
import type { EntryFactory, QueueStore } from './store-types';

/**
 * The persistent messages of one durable queue: a CommitLog of message records (message-codec.ts)
 * and an ack index with one 8-byte entry per record, in record order:
 *
 *   +----------+-------------+---------------------+
 *   | state u8 | reserved u8×3 | deliveryCount u32 |     state: 0 ready, 1 delivered, 2 gone
 *   +----------+-------------+---------------------+
 *
 * Writes are batched: entries added during one event-loop turn are appended with one
 * `appendMany` (index first) and one `appendBatch` at the engine's next pump; state changes of
 * persisted entries are rewritten in place. A message settled before its turn ends never reaches
 * the disk. Index first, so every record has its own index slot even when an append fails part
 * way: a failed batch (ERR_NO_SPACE) has its slots marked `gone` (what reached the log of it is
 * dead), its entries are handed back through `takeUnwritten`, and the next batch appends anew.
 *
 * The delivered mark of a persisted entry is written to the mapped index at once (not at the
 * next flush), before the delivery reaches its consumer: a killed process cannot lose it, so a
 * message delivered before a kill -9 comes back `redelivered`. (Acks and requeues wait for the
 * flush: an ack is not confirmed, and a lost requeue leaves the entry marked delivered.)
 *
 * Recovery reads the log and keeps every record whose index entry is not `gone`. A record
 * without an index entry (a damaged index) comes back ready and `redelivered`: its ack state is
 * unknown, so it is kept (at-least-once), and that is written back to the index. An index that
 * does not open (cut shorter than its header or than the entries it claims) is rebuilt: the
 * entries the file still holds are kept, the rest are unknown as above, and the damaged file is
 * kept as `acks.idx.damaged`.
 *
 * Compaction keeps disk use near the backlog: the files live in a generation directory
 * (`gen-<n>/log`, `gen-<n>/acks.idx`) named by the `CURRENT` file. When the log is past two
 * segments and more than three quarters of its records are gone, the live messages are written
 * to generation n+1 (in order, renumbered), flushed, and `CURRENT` is switched by an atomic
 * rename; only then is generation n deleted. A crash before the rename leaves generation n
 * current (the half-written n+1 is removed on open); after it, n+1 is complete.
 */
const ENTRY_BYTES = 8;
const STATE_READY = 0;
const STATE_DELIVERED = 1;
const STATE_GONE = 2;
/** storeSeq of an entry whose `gone` state is on disk: nothing more to write for it. */
const SEQ_RETIRED = -2;
const CURRENT = 'CURRENT';
/** IndexFile header (native/index-file.h): magic, entryBytes u32 at 8, count u64 at 16. */
const INDEX_HEADER_BYTES = 64;
/** native/index-file.cc kMagic, read as a little-endian u64 (the bytes spell "MLQIDX01"). */
const INDEX_MAGIC = 0x3130584449514c4dn;
/** Appends skipped after a compaction failed (e.g. a full disk) before it is tried again. */
const COMPACT_RETRY_RECORDS = 1024;

export interface QueueLogStoreOptions {
  segmentBytes: number;
  flush: FlushPolicy;
  clock?: () => number;
}

export class QueueLogStore implements QueueStore {
  private log: CommitLog;
  private index: IndexFile;
  private gen: number;
  private pendingAdds: QueueEntry[] = [];
  private pendingChanges: QueueEntry[] = [];
  private dirty = false;
  /** Persisted entries whose `gone` state is not yet written, by storeSeq (compaction rewrites them). */
  private readonly liveEntries = new Map<number, QueueEntry>();
  private readonly entry = Buffer.alloc(ENTRY_BYTES);
  private closed = false;
  /** Entries of a batch whose append failed, until the engine takes them back. */
  private unwritten: QueueEntry[] = [];
  /** Index entries from here on were lost with a damaged index: their ack state is unknown. */
  private knownEntries = Number.MAX_SAFE_INTEGER;
  private compactAfterCount = 0;

  constructor(
    readonly dir: string,
    private readonly options: QueueLogStoreOptions,
    private readonly onDirty: (store: QueueStore) => void,
    private readonly makeEntry: EntryFactory,
  ) {
    mkdirSync(dir, { recursive: true });
    this.gen = readGeneration(dir);
    // Leftovers of a compaction that crashed before switching CURRENT.
    for (const name of readdirSync(dir)) if (name.startsWith('gen-') && name !== `gen-${this.gen}`) rmSync(join(dir, name), { recursive: true, force: true });
    ({ log: this.log, index: this.index } = this.openFiles(this.gen, true));
  }

  private openFiles(gen: number, rebuild = false): { log: CommitLog; index: IndexFile } {
    const dir = join(this.dir, `gen-${gen}`);
    const log = CommitLog.open(join(dir, 'log'), { segmentBytes: this.options.segmentBytes, flush: this.options.flush, clock: this.options.clock });
    const file = join(dir, 'acks.idx');
    try {
      try {
        return { log, index: openIndex(file) };
      } catch (e) {
        if (!rebuild || !isMqlabError(e) || e.code !== 'ERR_CORRUPT') throw e;
      }
      // Rebuild: keep the whole entries the damaged file still holds; later ones are unknown.
      const kept = salvageEntries(file);
      renameSync(file, `${file}.damaged`);
      const index = openIndex(file);
      if (kept.length > 0) index.appendMany(kept);
      this.knownEntries = kept.length / ENTRY_BYTES;
      return { log, index };
    } catch (e) {
      log.close();
      throw e;
    }
  }

  /** Generation in use (tests and diagnostics). */
  get generation(): number {
    return this.gen;
  }

  added(entry: QueueEntry): void {
    this.pendingAdds.push(entry);
    this.markDirty();
  }

  changed(entry: QueueEntry): void {
    if (entry.storeSeq < 0 || this.closed) return;
    if (entry.state === EntryState.Unacked) {
      // The delivered mark goes to the mapped index now, so a kill -9 after the delivery keeps it.
      writeEntry(this.entry, 0, entry);
      this.index.write(entry.storeSeq, this.entry);
      return;
    }
    if (entry.storeDirty) return;
    entry.storeDirty = true;
    this.pendingChanges.push(entry);
    this.markDirty();
  }

  private markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.onDirty(this);
  }

  /**
   * Writes what is pending. A failed append (ERR_NO_SPACE, ERR_IO) throws after the state changes
   * are written; the entries of the failed batch are then not persisted (`takeUnwritten`).
   */
  flush(): boolean {
    this.dirty = false;
    if (this.closed) return false;
    // State changes first: in-place writes to the mapped index cannot fail for lack of space.
    this.writeChanges();
    let appended = false;
    if (this.pendingAdds.length > 0) {
      const adds = this.pendingAdds;
      this.pendingAdds = [];
      const keep = adds.filter((e) => e.state !== EntryState.Gone && !e.queue.deleted);
      if (keep.length > 0) {
        this.appendEntries(keep);
        appended = true;
      }
    }
    const dead = this.index.count - this.liveEntries.size;
    if (this.pendingAdds.length === 0 && this.index.count >= this.compactAfterCount && dead > 3 * this.liveEntries.size && this.log.endPosition - this.log.startPosition > 2 * this.options.segmentBytes) {
      try {
        this.compact();
      } catch {
        // Compaction only saves space; on a full disk it waits for more appends before trying again.
        this.compactAfterCount = this.index.count + COMPACT_RETRY_RECORDS;
      }
    }
    return appended;
  }

  private appendEntries(keep: QueueEntry[]): void {
    const first = this.index.count;
    const payloads: Buffer[] = new Array(keep.length);
    const entries = Buffer.alloc(keep.length * ENTRY_BYTES);
    for (let i = 0; i < keep.length; i++) {
      const e = keep[i]!;
      const m = e.message;
      payloads[i] = encodeMessage(first + i, e.order, m.exchange, m.routingKey, m.properties, e.expiresAt, m.content);
      writeEntry(entries, i * ENTRY_BYTES, e);
    }
    // Index first, then log: a crash in between leaves entries past the last record (dropped on open).
    try {
      this.index.appendMany(entries);
    } catch (e) {
      if (this.index.count > first) this.index.truncate(first);
      this.unwritten.push(...keep);
      throw e;
    }
    try {
      this.log.appendBatch(payloads);
    } catch (e) {
      // Part of the batch may be in the log: its slots say `gone`, so it never comes back.
      const gone = Buffer.alloc(keep.length * ENTRY_BYTES);
      for (let i = 0; i < keep.length; i++) gone[i * ENTRY_BYTES] = STATE_GONE;
      for (let i = 0; i < keep.length; i++) this.index.write(first + i, gone.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES));
      this.unwritten.push(...keep);
      throw e;
    }
    for (let i = 0; i < keep.length; i++) {
      const e = keep[i]!;
      e.storeSeq = first + i;
      e.storeDirty = false;
      this.liveEntries.set(e.storeSeq, e);
    }
  }

  takeUnwritten(): QueueEntry[] {
    const out = this.unwritten;
    this.unwritten = [];
    return out;
  }

  private writeChanges(): void {
    if (this.pendingChanges.length > 0) {
      const changes = this.pendingChanges;
      this.pendingChanges = [];
      for (const e of changes) {
        if (!e.storeDirty) continue;
        e.storeDirty = false;
        if (e.storeSeq < 0) continue;
        writeEntry(this.entry, 0, e);
        this.index.write(e.storeSeq, this.entry);
        if (e.state === EntryState.Gone) {
          this.liveEntries.delete(e.storeSeq);
          e.storeSeq = SEQ_RETIRED;
        }
      }
    }
  }

  /** Rewrites the live messages into the next generation and switches to it (see the header). */
  private compact(): void {
    const next = this.gen + 1;
    rmSync(join(this.dir, `gen-${next}`), { recursive: true, force: true });
    const files = this.openFiles(next);
    const live = [...this.liveEntries.values()].sort((a, b) => a.storeSeq - b.storeSeq);
    try {
      if (live.length > 0) {
        const entries = Buffer.alloc(live.length * ENTRY_BYTES);
        const payloads = live.map((e, i) => {
          writeEntry(entries, i * ENTRY_BYTES, e);
          const m = e.message;
          return encodeMessage(i, e.order, m.exchange, m.routingKey, m.properties, e.expiresAt, m.content);
        });
        files.log.appendBatch(payloads);
        files.index.appendMany(entries);
      }
      files.log.flushSync();
      files.index.flushSync();
      const tmp = join(this.dir, `${CURRENT}.tmp`);
      writeFileSync(tmp, String(next));
      renameSync(tmp, join(this.dir, CURRENT));
    } catch (e) {
      files.log.close();
      files.index.close();
      rmSync(join(this.dir, `gen-${next}`), { recursive: true, force: true });
      throw e;
    }
    this.log.close();
    this.index.close();
    rmSync(join(this.dir, `gen-${this.gen}`), { recursive: true, force: true });
    this.log = files.log;
    this.index = files.index;
    this.gen = next;
    this.liveEntries.clear();
    live.forEach((e, i) => {
      e.storeSeq = i;
      this.liveEntries.set(i, e);
    });
  }

  durable(): Promise<void> {
    return this.closed ? Promise.resolve() : this.log.durable();
  }

  recover(): QueueEntry[] {
    const count = this.index.count;
    const states = count > 0 ? this.index.readRange(0, count) : Buffer.alloc(0);
    const out: QueueEntry[] = [];
    let maxSeq = -1;
    const mark: number[] = [];
    for (const record of this.log.records()) {
      const d = decodeMessage(record.payload);
      maxSeq = Math.max(maxSeq, d.storeSeq);
      const has = d.storeSeq < count && d.storeSeq < this.knownEntries;
      const state = has ? states[d.storeSeq * ENTRY_BYTES]! : STATE_READY;
      if (state === STATE_GONE) continue;
      const deliveryCount = has ? states.readUInt32LE(d.storeSeq * ENTRY_BYTES + 4) : 0;
      // Unknown ack state: may have been delivered.
      const delivered = state === STATE_DELIVERED || !has;
      if (!has) mark.push(d.storeSeq);
      out.push(
        this.makeEntry({
          order: d.order,
          exchange: d.exchange,
          routingKey: d.routingKey,
          properties: d.properties,
          content: d.content,
          expiresAt: d.expiresAt,
          deliveryCount,
          delivered,
          storeSeq: d.storeSeq,
        }),
      );
    }
    // Make the index match the log: drop entries past the last record, add missing ones as ready.
    if (count > maxSeq + 1) this.index.truncate(maxSeq + 1);
    else if (count < maxSeq + 1) this.index.appendMany(Buffer.alloc((maxSeq + 1 - count) * ENTRY_BYTES));
    for (const e of out) this.liveEntries.set(e.storeSeq, e);
    // Keep "possibly delivered" on disk, so a later clean restart still says redelivered.
    this.entry.fill(0);
    this.entry[0] = STATE_DELIVERED;
    for (const seq of mark) this.index.write(seq, this.entry);
    this.knownEntries = Number.MAX_SAFE_INTEGER;
    out.sort((a, b) => a.order - b.order);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    this.index.close();
  }

  destroy(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function openIndex(file: string): IndexFile {
  return IndexFile.open(file, { entryBytes: ENTRY_BYTES, growBytes: 64 * 1024 });
}

/** The whole entries a damaged index file still holds (none when its header is unusable). */
function salvageEntries(file: string): Buffer {
  const raw = readFileSync(file);
  if (raw.length < INDEX_HEADER_BYTES || raw.readBigUInt64LE(0) !== INDEX_MAGIC || raw.readUInt32LE(8) !== ENTRY_BYTES) return Buffer.alloc(0);
  const claimed = Number(raw.readBigUInt64LE(16));
  const held = Math.floor((raw.length - INDEX_HEADER_BYTES) / ENTRY_BYTES);
  const n = Math.min(claimed, held);
  return Buffer.from(raw.subarray(INDEX_HEADER_BYTES, INDEX_HEADER_BYTES + n * ENTRY_BYTES));
}

function writeEntry(buf: Buffer, at: number, e: QueueEntry): void {
  buf[at] = e.state === EntryState.Gone ? STATE_GONE : e.state === EntryState.Unacked || e.redelivered ? STATE_DELIVERED : STATE_READY;
  buf[at + 1] = 0;
  buf[at + 2] = 0;
  buf[at + 3] = 0;
  buf.writeUInt32LE(Math.min(e.deliveryCount, 0xffffffff), at + 4);
}

/** The generation named by CURRENT (0 when there is none yet). A damaged CURRENT is an error, never a guess. */
function readGeneration(dir: string): number {
  let text: string;
  try {
    text = readFileSync(join(dir, CURRENT), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < 0) throw new MqlabError('ERR_CORRUPT', `${join(dir, CURRENT)} does not name a generation: ${JSON.stringify(text.slice(0, 40))}`, { path: join(dir, CURRENT) });
  return n;
}
