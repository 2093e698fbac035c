import { rmSync } from 'node:fs';
import { join } from 'node:path';
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
 * When every persisted message is gone and the log has grown past `compactBytes`, the files are
 * deleted and started afresh, so a busy queue's disk use stays bounded by its backlog.
 */
const ENTRY_BYTES = 8;
const STATE_READY = 0;
const STATE_DELIVERED = 1;
const STATE_GONE = 2;
/** storeSeq of an entry whose `gone` state is on disk: nothing more to write for it. */
const SEQ_RETIRED = -2;

export interface QueueLogStoreOptions {
  segmentBytes: number;
  flush: FlushPolicy;
  clock?: () => number;
}

export class QueueLogStore implements QueueStore {
  private log: CommitLog;
  private index: IndexFile;
  private pendingAdds: QueueEntry[] = [];
  private pendingChanges: QueueEntry[] = [];
  private dirty = false;
  /** Persisted entries whose `gone` state is not yet written. */
  private live = 0;
  private readonly entry = Buffer.alloc(ENTRY_BYTES);
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly options: QueueLogStoreOptions,
    private readonly onDirty: (store: QueueStore) => void,
    private readonly makeEntry: EntryFactory,
  ) {
    ({ log: this.log, index: this.index } = this.openFiles());
  }

  private openFiles(): { log: CommitLog; index: IndexFile } {
    const log = CommitLog.open(join(this.dir, 'log'), { segmentBytes: this.options.segmentBytes, flush: this.options.flush, clock: this.options.clock });
    try {
      const index = IndexFile.open(join(this.dir, 'acks.idx'), { entryBytes: ENTRY_BYTES, growBytes: 64 * 1024 });
      return { log, index };
    } catch (e) {
      log.close();
      throw e;
    }
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
        }
        this.live += keep.length;
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
          e.storeSeq = SEQ_RETIRED;
          this.live--;
        }
      }
    }
    if (this.live === 0 && this.pendingAdds.length === 0 && this.log.endPosition - this.log.startPosition > this.options.segmentBytes) this.reset();
    return appended;
  }

  /** Everything acked: start with empty files. */
  private reset(): void {
    this.log.close();
    this.index.close();
    rmSync(this.dir, { recursive: true, force: true });
    ({ log: this.log, index: this.index } = this.openFiles());
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
    this.live = out.length;
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
