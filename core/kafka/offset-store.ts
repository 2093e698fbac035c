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
 */
export class OffsetStore {
  private readonly committed = new Map<string, Map<string, number>>();
  private readonly log: PartitionLog;

  constructor(dir: string, clock: () => number) {
    this.log = openLog(dir, { segmentBytes: 4 * 1024 * 1024, flush: 'sync', clock });
    let pos = this.log.startPosition;
    while (pos < this.log.endPosition) {
      const { records, next } = this.log.readBatch(pos);
      if (records.length === 0) break;
      for (const r of records) {
        let rec: { g: string; o: Array<[string, number, number]> };
        try {
          rec = JSON.parse(r.payload.toString('utf8')) as typeof rec;
        } catch {
          throw new MqlabError('ERR_CORRUPT', `committed-offsets log ${dir}: record at ${r.position} is not valid JSON`, { position: r.position });
        }
        this.apply(rec.g, rec.o);
      }
      pos = next;
    }
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
