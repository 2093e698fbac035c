import * as fs from 'node:fs';
import type { PartitionLog } from './storage';
import { openLog } from './storage';
import { MqlabError } from '../errors';

/**
 * Committed offsets (Kafka's __consumer_offsets): each commit is one record of a commit log opened
 * with the 'sync' flush policy, so `commit` resolves only once the offsets are on disk (concurrent
 * commits share one fdatasync). On open the log is replayed; the last commit for a partition wins.
 * A committed offset is the next offset the group will read.
 *
 * Record payload: JSON {"g": group, "o": [[topic, partition, offset], ...]}.
 *
 * Compaction (on open, when the log holds many more records than live offsets): the live offsets
 * are written to `<dir>.compact` and made durable, then swapped in by two renames
 * (dir → `<dir>.old`, `<dir>.compact` → dir). A crash at any step leaves a state the next open
 * finishes: a `.compact` beside an intact dir is dropped (unfinished), a `.compact` without the
 * dir is the complete new log (it was durable before the first rename).
 */
const COMPACT_MIN_RECORDS = 10_000;

export class OffsetStore {
  private readonly committed = new Map<string, Map<string, number>>();
  private log: PartitionLog;

  constructor(private readonly dir: string, private readonly clock: () => number) {
    finishInterruptedCompaction(dir);
    this.log = this.open();
    const records = this.replay();
    let live = 0;
    for (const m of this.committed.values()) live += m.size;
    if (records >= COMPACT_MIN_RECORDS && records > 4 * Math.max(1, Math.ceil(live / 100))) this.compact();
  }

  private open(): PartitionLog {
    return openLog(this.dir, { segmentBytes: 4 * 1024 * 1024, flush: 'sync', clock: this.clock });
  }

  /** Applies every record; returns how many there were. */
  private replay(): number {
    let n = 0;
    let pos = this.log.startPosition;
    while (pos < this.log.endPosition) {
      const { records, next } = this.log.readBatch(pos);
      if (records.length === 0) break;
      for (const r of records) {
        let rec: { g: string; o: Array<[string, number, number]> };
        try {
          rec = JSON.parse(r.payload.toString('utf8')) as typeof rec;
        } catch {
          throw new MqlabError('ERR_CORRUPT', `committed-offsets log ${this.dir}: record at ${r.position} is not valid JSON`, { position: r.position });
        }
        this.apply(rec.g, rec.o);
        n++;
      }
      pos = next;
    }
    return n;
  }

  /** Rewrites the log as one record per 100 live offsets (see the class comment for the protocol). */
  private compact(): void {
    const tmp = this.dir + '.compact';
    fs.rmSync(tmp, { recursive: true, force: true });
    const out = openLog(tmp, { segmentBytes: 4 * 1024 * 1024, flush: 'none' });
    try {
      for (const [group, m] of this.committed) {
        const all = [...m].map(([k, o]) => {
          const [t, p] = k.split('\u0000') as [string, string];
          return [t, Number(p), o] as [string, number, number];
        });
        for (let i = 0; i < all.length; i += 100) out.append(Buffer.from(JSON.stringify({ g: group, o: all.slice(i, i + 100) })));
      }
      out.flushSync();
    } finally {
      out.close();
    }
    this.log.close();
    fs.renameSync(this.dir, this.dir + '.old');
    fs.renameSync(tmp, this.dir);
    fs.rmSync(this.dir + '.old', { recursive: true, force: true });
    this.log = this.open();
  }

  private apply(group: string, offsets: Array<[string, number, number]>): void {
    let m = this.committed.get(group);
    if (m === undefined) this.committed.set(group, (m = new Map()));
    for (const [t, p, o] of offsets) m.set(`${t}\u0000${p}`, o);
  }

  get(group: string, topic: string, partition: number): number | undefined {
    return this.committed.get(group)?.get(`${topic}\u0000${partition}`);
  }

  /** All committed offsets of a group (topic, partition, offset). */
  list(group: string): Array<{ topic: string; partition: number; offset: number }> {
    const m = this.committed.get(group);
    if (m === undefined) return [];
    return [...m].map(([k, offset]) => {
      const [topic, p] = k.split('\u0000') as [string, string];
      return { topic, partition: Number(p), offset };
    });
  }

  /** Records the offsets at once (visible to `get`), resolves once durable. */
  async commit(group: string, offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>): Promise<void> {
    if (offsets.length === 0) return;
    const o = offsets.map((x) => [x.topic, x.partition, x.offset] as [string, number, number]);
    const pending = this.log.write(Buffer.from(JSON.stringify({ g: group, o })));
    this.apply(group, o);
    await pending;
  }

  close(): void {
    this.log.close();
  }
}

/** Completes or drops a compaction a crash interrupted (see OffsetStore). */
function finishInterruptedCompaction(dir: string): void {
  const tmp = dir + '.compact';
  const old = dir + '.old';
  if (fs.existsSync(tmp)) {
    if (fs.existsSync(dir)) fs.rmSync(tmp, { recursive: true, force: true });
    else fs.renameSync(tmp, dir);
  }
  if (fs.existsSync(old) && fs.existsSync(dir)) fs.rmSync(old, { recursive: true, force: true });
}
