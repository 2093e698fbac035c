import { readKeys, readTopic, isMessageRecord, SYSFLAG_HAS_KEYS } from './message-codec';
import { keysOf } from './message';
import type { ConsumeQueue } from './consume-queue';
import type { KeyIndex } from './key-index';
import type { CommitLogLike } from './storage';

/**
 * Builds the ConsumeQueues and the key index from the CommitLog, behind the writers (RocketMQ's
 * ReputMessageService). `reputFrom` is the CommitLog position of the next record to dispatch;
 * the lag is `endPosition - reputFrom`. Dispatch is idempotent: an entry whose queue offset is
 * already in its ConsumeQueue is skipped, so re-dispatching after a restart is safe.
 */
export class Dispatcher {
  reputFrom: number;
  /** Records whose queue offset was ahead of their ConsumeQueue (a lost or short queue). */
  gaps = 0;
  dispatchedRecords = 0;
  private readonly touched: ConsumeQueue[] = [];

  constructor(
    private readonly log: CommitLogLike,
    private readonly queueFor: (topic: string, queueId: number) => ConsumeQueue,
    private readonly keyIndex: KeyIndex,
    from: number,
  ) {
    this.reputFrom = from;
  }

  get lagBytes(): number {
    return this.log.endPosition - this.reputFrom;
  }

  /** Dispatches what the CommitLog holds now (at most `maxRecords`); returns the records dispatched. */
  dispatch(maxRecords = Number.POSITIVE_INFINITY): number {
    let done = 0;
    const touched = this.touched;
    let lastTopicBytes: Buffer | undefined;
    let lastTopic = '';
    while (this.reputFrom < this.log.endPosition && done < maxRecords) {
      const { records, next } = this.log.readBatch(this.reputFrom, 4 << 20, Math.min(4096, maxRecords - done));
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const p = r.payload;
        if (!isMessageRecord(p)) continue;
        // Most rounds carry one topic: reuse its string when the bytes match.
        const topicLen = p[6]!;
        let topic: string;
        if (lastTopicBytes !== undefined && sameBytes(lastTopicBytes, p, topicLen)) topic = lastTopic;
        else {
          topic = readTopic(p);
          lastTopic = topic;
          lastTopicBytes = Buffer.from(p.subarray(48, 48 + topicLen));
        }
        const cq = this.queueFor(topic, p.readUInt16LE(4));
        const queueOffset = p.readDoubleLE(8);
        const have = cq.dispatchedCount;
        if (queueOffset === have) {
          if (!cq.hasStaged) touched.push(cq);
          cq.stageEntry(r.position, r.next - r.position, p.readDoubleLE(16));
          if (p[7]! & SYSFLAG_HAS_KEYS) {
            for (const key of keysOf(readKeys(p))) this.keyIndex.add(topic, key, r.position, r.timestamp);
          }
        } else if (queueOffset > have) {
          this.gaps++;
        }
      }
      done += records.length;
      this.reputFrom = next;
      if (records.length === 0) break;
    }
    this.dispatchedRecords += done;
    if (touched.length > 0) {
      for (const cq of touched) cq.commitStaged();
      for (const cq of touched) cq.notifyArrival();
      touched.length = 0;
    }
    return done;
  }
}

/** Topic bytes of `p` (at 48) equal `known`? A plain loop beats Buffer.compare for short names. */
function sameBytes(known: Buffer, p: Buffer, len: number): boolean {
  if (known.length !== len) return false;
  for (let i = 0; i < len; i++) if (known[i] !== p[48 + i]) return false;
  return true;
}
