import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MqlabError } from '../errors';
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
 * `appendBatch` and one `appendMany` at the engine's next pump; state changes of persisted
 * entries are rewritten in place. A message settled before its turn ends never reaches the disk.
 * Recovery reads the log and keeps every record whose index entry is not `gone` (a record with no
 * index entry yet — a crash between the two appends — counts as ready).
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
    ({ log: this.log, index: this.index } = this.openFiles(this.gen));
  }

  private openFiles(gen: number): { log: CommitLog; index: IndexFile } {
    const dir = join(this.dir, `gen-${gen}`);
    const log = CommitLog.open(join(dir, 'log'), { segmentBytes: this.options.segmentBytes, flush: this.options.flush, clock: this.options.clock });
    try {
      const index = IndexFile.open(join(dir, 'acks.idx'), { entryBytes: ENTRY_BYTES, growBytes: 64 * 1024 });
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
    if (entry.storeSeq < 0 || entry.storeDirty) return;
    entry.storeDirty = true;
    this.pendingChanges.push(entry);
    this.markDirty();
  }

  private markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.onDirty(this);
  }

  flush(): boolean {
    this.dirty = false;
    if (this.closed) return false;
    let appended = false;
    if (this.pendingAdds.length > 0) {
      const adds = this.pendingAdds;
      this.pendingAdds = [];
      const keep = adds.filter((e) => e.state !== EntryState.Gone && !e.queue.deleted);
      if (keep.length > 0) {
        const first = this.index.count;
        const payloads: Buffer[] = new Array(keep.length);
        const entries = Buffer.alloc(keep.length * ENTRY_BYTES);
        for (let i = 0; i < keep.length; i++) {
          const e = keep[i]!;
          const m = e.message;
          payloads[i] = encodeMessage(first + i, e.order, m.exchange, m.routingKey, m.properties, e.expiresAt, m.content);
          writeEntry(entries, i * ENTRY_BYTES, e);
        }
        // Log first, then index: a crash in between leaves records without entries, read as ready.
        this.log.appendBatch(payloads);
        this.index.appendMany(entries);
        for (let i = 0; i < keep.length; i++) {
          const e = keep[i]!;
          e.storeSeq = first + i;
          e.storeDirty = false;
          this.liveEntries.set(e.storeSeq, e);
        }
        appended = true;
      }
    }
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
    const dead = this.index.count - this.liveEntries.size;
    if (this.pendingAdds.length === 0 && dead > 3 * this.liveEntries.size && this.log.endPosition - this.log.startPosition > 2 * this.options.segmentBytes) this.compact();
    return appended;
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
    for (const record of this.log.records()) {
      const d = decodeMessage(record.payload);
      maxSeq = Math.max(maxSeq, d.storeSeq);
      const has = d.storeSeq < count;
      const state = has ? states[d.storeSeq * ENTRY_BYTES]! : STATE_READY;
      if (state === STATE_GONE) continue;
      const deliveryCount = has ? states.readUInt32LE(d.storeSeq * ENTRY_BYTES + 4) : 0;
      out.push(
        this.makeEntry({
          order: d.order,
          exchange: d.exchange,
          routingKey: d.routingKey,
          properties: d.properties,
          content: d.content,
          expiresAt: d.expiresAt,
          deliveryCount,
          delivered: state === STATE_DELIVERED,
          storeSeq: d.storeSeq,
        }),
      );
    }
    // Make the index match the log: drop entries past the last record, add missing ones as ready.
    if (count > maxSeq + 1) this.index.truncate(maxSeq + 1);
    else if (count < maxSeq + 1) this.index.appendMany(Buffer.alloc((maxSeq + 1 - count) * ENTRY_BYTES));
    for (const e of out) this.liveEntries.set(e.storeSeq, e);
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
