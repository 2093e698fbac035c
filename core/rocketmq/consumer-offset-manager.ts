import path from 'node:path';
import { readJsonFile, writeJsonFile } from './json-file';

/**
 * Consumer offsets kept by the broker for CLUSTERING groups (`config/consumerOffset.json`):
 * for each `topic@group`, the next queue offset to consume per queue.
 */
export class ConsumerOffsetManager {
  private readonly table: Map<string, number[]>;
  private dirty = false;
  private readonly file: string;

  constructor(configDir: string) {
    this.file = path.join(configDir, 'consumerOffset.json');
    const stored = readJsonFile<Record<string, number[]>>(this.file, {});
    this.table = new Map(Object.entries(stored));
  }

  commit(group: string, topic: string, queueId: number, offset: number): void {
    let row = this.rows.get(group)?.get(topic);
    if (!row) row = this.rowOf(group, topic);
    while (row.length <= queueId) row.push(-1);
    if (row[queueId] !== offset) {
      row[queueId] = offset;
      this.dirty = true;
    }
  }

  /** Rows by group and topic: the same arrays as in `table`, found without building its key per commit. */
  private readonly rows = new Map<string, Map<string, number[]>>();

  private rowOf(group: string, topic: string): number[] {
    const key = topic + '@' + group;
    let row = this.table.get(key);
    if (!row) this.table.set(key, (row = []));
    let byTopic = this.rows.get(group);
    if (!byTopic) this.rows.set(group, (byTopic = new Map()));
    byTopic.set(topic, row);
    return row;
  }

  /** The stored offset, or -1 when the group never committed on that queue. */
  query(group: string, topic: string, queueId: number): number {
    return this.table.get(topic + '@' + group)?.[queueId] ?? -1;
  }

  /** Every offset the group stored: topic → per-queue offsets. */
  offsetsOf(group: string): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    const suffix = '@' + group;
    for (const [key, row] of this.table) if (key.endsWith(suffix)) out[key.slice(0, -suffix.length)] = [...row];
    return out;
  }

  persist(force = false): void {
    if (!this.dirty && !force) return;
    writeJsonFile(this.file, Object.fromEntries(this.table));
    this.dirty = false;
  }
}
