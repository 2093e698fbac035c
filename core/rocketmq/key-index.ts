import { tagHashCode } from './tag-hash';
import { readInt64BE, writeInt64BE } from './consume-queue';
import type { IndexFileLike } from './storage';

/**
 * The index by message key and time (RocketMQ's IndexFile): for every key of every message,
 * a 24-byte entry in a file, and a hash table in memory rebuilt from the file on open.
 *
 *   ┌───────────────────────┬──────────────────────┬──────────────────────┐
 *   │ hash of topic#key (4) │ CommitLog offset (8) │ store timestamp (8)  │ + 4 reserved
 *   └───────────────────────┴──────────────────────┴──────────────────────┘
 *
 * A lookup returns candidate positions; the caller reads each message and checks topic, key and
 * time, since different keys can share a hash.
 */
export const KEY_INDEX_UNIT = 24;

export function keyHash(topic: string, key: string): number {
  return tagHashCode(topic + '#' + key);
}

export class KeyIndex {
  private readonly table = new Map<number, number[]>();
  private readonly entry = Buffer.alloc(KEY_INDEX_UNIT);

  constructor(private readonly file: IndexFileLike) {
    const n = file.count;
    const step = 4096;
    for (let from = 0; from < n; from += step) {
      const buf = file.readRange(from, step);
      for (let off = 0; off + KEY_INDEX_UNIT <= buf.length; off += KEY_INDEX_UNIT) {
        this.remember(buf.readInt32BE(off), readInt64BE(buf, off + 4));
      }
    }
  }

  get count(): number {
    return this.file.count;
  }

  /** Position of the last indexed message, or -1. */
  lastPosition(): number {
    return this.file.count === 0 ? -1 : readInt64BE(this.file.read(this.file.count - 1), 4);
  }

  /** Drops entries for messages at or after `position` (they will be dispatched again). */
  truncateFrom(position: number): void {
    let lo = 0;
    let hi = this.file.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (readInt64BE(this.file.read(mid), 4) < position) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.file.count) return;
    this.file.truncate(lo);
    for (const [h, list] of this.table) {
      const kept = list.filter((p) => p < position);
      if (kept.length) this.table.set(h, kept);
      else this.table.delete(h);
    }
  }

  add(topic: string, key: string, position: number, storeTimestamp: number): void {
    const h = keyHash(topic, key);
    this.entry.writeInt32BE(h, 0);
    writeInt64BE(this.entry, 4, position);
    writeInt64BE(this.entry, 12, storeTimestamp);
    this.file.append(this.entry);
    this.remember(h, position);
  }

  candidates(topic: string, key: string): readonly number[] {
    return this.table.get(keyHash(topic, key)) ?? [];
  }

  private remember(h: number, position: number): void {
    const list = this.table.get(h);
    if (list) list.push(position);
    else this.table.set(h, [position]);
  }

  close(): void {
    this.file.close();
  }
}
