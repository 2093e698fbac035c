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
  private touchedCount = 0;

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

  // Dispatch requests the broker recorded as it appended (queue, offset, position, size, tag code),
  // so the common path needs no read-back; they cover [reqStart, reqEnd) of the CommitLog. When they
  // do not start at `reputFrom` (after a restart) the records are read back from the CommitLog.
  // Queues of the requests as runs: requests [runStart[k], runStart[k + 1]) go to runCq[k] (a plain
  // batch is one run, so nothing is stored per message for its queue).
  private runCq: ConsumeQueue[] = [];
  private runStart: number[] = [];
  /** Runs in use in runCq / runStart (the arrays are reused, not shrunk, between rounds). */
  private runCount = 0;
  private reqNum = new Float64Array(4 * 4096);
  private reqCount = 0;
  private readonly reqKeys = new Map<number, { topic: string; keys: string[]; timestamp: number }>();
  private reqEnd = -1;

  /**
   * Records appended messages for the next dispatch: message i is in `cqs[i]` (or every one in
   * `cqs` when it is one queue) at `offsets[i]` (or `offsets + i` when a number: a run of one
   * queue), stored at `positions[i]` up to the next position (the last one up to `end`).
   */
  requestMany(cqs: ConsumeQueue | readonly ConsumeQueue[], offsets: readonly number[] | number, positions: readonly number[], end: number,
    tagsCodes: readonly number[] | undefined, keys: ReadonlyMap<number, { topic: string; keys: string[]; timestamp: number }> | undefined): void {
    const n = positions.length;
    if (n === 0) return;
    if (this.reqCount > 0 && positions[0] !== this.reqEnd) this.dropRequests(); // not contiguous: read back instead
    if (this.reqCount === 0 && positions[0] !== this.reputFrom) return;
    const base = this.reqCount;
    if ((base + n) * 4 > this.reqNum.length) {
      const grown = new Float64Array(Math.max(this.reqNum.length * 2, (base + n) * 4));
      grown.set(this.reqNum.subarray(0, base * 4));
      this.reqNum = grown;
    }
    const num = this.reqNum;
    const one = !Array.isArray(cqs);
    if (one) this.addRun(cqs as ConsumeQueue, base);
    for (let i = 0; i < n; i++) {
      const j = (base + i) * 4;
      if (!one) this.addRun((cqs as readonly ConsumeQueue[])[i]!, base + i);
      num[j] = typeof offsets === 'number' ? offsets + i : offsets[i]!;
      num[j + 1] = positions[i]!;
      num[j + 2] = (i + 1 < n ? positions[i + 1]! : end) - positions[i]!;
      num[j + 3] = tagsCodes === undefined ? 0 : tagsCodes[i]!;
    }
    if (keys) for (const [i, k] of keys) this.reqKeys.set(base + i, k);
    this.reqCount = base + n;
    this.reqEnd = end;
  }

  private addRun(cq: ConsumeQueue, at: number): void {
    const k = this.runCount;
    if (k > 0 && this.runCq[k - 1] === cq) return;
    this.runCq[k] = cq;
    this.runStart[k] = at;
    this.runCount = k + 1;
  }

  private dropRequests(): void {
    this.runCount = 0;
    this.reqCount = 0;
    if (this.reqKeys.size > 0) this.reqKeys.clear();
    this.reqEnd = -1;
  }

  /** Dispatches what the CommitLog holds now (at most `maxRecords`); returns the records dispatched. */
  dispatch(maxRecords = Number.POSITIVE_INFINITY): number {
    let done = 0;
    const touched = this.touched;
    if (this.reqCount > 0) {
      if (this.reqNum[1] === this.reputFrom && this.reqEnd <= this.log.endPosition) {
        const runCq = this.runCq;
        const runStart = this.runStart;
        const num = this.reqNum;
        const count = this.reqCount;
        const keyed = this.reqKeys.size > 0 ? this.reqKeys : undefined;
        const runs = this.runCount;
        for (let r = 0; r < runs; r++) {
          const cq = runCq[r]!;
          const runEnd = r + 1 < runs ? runStart[r + 1]! : count;
          for (let i = runStart[r]!; i < runEnd; i++) {
            const queueOffset = num[i * 4]!;
            const have = cq.dispatchedCount;
            if (queueOffset === have) {
              if (!cq.hasStaged) touched[this.touchedCount++] = cq;
              cq.stageEntry(num[i * 4 + 1]!, num[i * 4 + 2]!, num[i * 4 + 3]!);
              const k = keyed?.get(i);
              if (k) for (const key of k.keys) this.keyIndex.add(k.topic, key, num[i * 4 + 1]!, k.timestamp);
            } else if (queueOffset > have) {
              this.gaps++;
            }
          }
        }
        done += count;
        this.reputFrom = this.reqEnd;
      }
      this.dropRequests();
    }
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
          if (!cq.hasStaged) touched[this.touchedCount++] = cq;
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
    const nTouched = this.touchedCount;
    if (nTouched > 0) {
      // The array is reused, not shrunk (a shrunk array would reallocate on every round).
      this.touchedCount = 0;
      for (let i = 0; i < nTouched; i++) touched[i]!.commitStaged();
      for (let i = 0; i < nTouched; i++) touched[i]!.notifyArrival();
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
