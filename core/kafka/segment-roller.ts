import type { PartitionLog } from './storage';
import { batchRecordCount, isBatch } from './record-batch';

/**
 * Kafka's `segment.ms` for one partition log: the active segment rolls once its first record
 * batch is `segmentMs` old (checked when an append arrives and when retention runs), so time-based
 * retention can delete a low-traffic partition's data, which would otherwise sit in the active
 * segment (never deleted) until the segment fills. The roll itself is the core's
 * (`CommitLog.roll`); as in Kafka, the new segment's age counts from its first batch.
 *
 * Not thread-safe by itself: the caller holds the partition's append lock (PartitionShare).
 */
export class SegmentRoller {
  /** Time at which the active segment (as last looked at) is due to roll; recomputed when reached. */
  private rollAt: number | undefined;

  constructor(
    private readonly log: PartitionLog,
    readonly segmentMs: number,
  ) {}

  /** Whether the active segment holds records and its first batch is at least segmentMs old at `now`. */
  due(now: number): boolean {
    if (this.rollAt !== undefined && now < this.rollAt) return false;
    const since = this.activeSince();
    this.rollAt = since === undefined ? now + this.segmentMs : since + this.segmentMs;
    return since !== undefined && now >= this.rollAt;
  }

  /** Rolls if due (see `due`). Returns whether it rolled. */
  rollIfDue(now: number): boolean {
    if (!this.due(now)) return false;
    this.log.roll();
    // Empty now: look again once a batch could be segment.ms old.
    this.rollAt = now + this.segmentMs;
    return true;
  }

  /**
   * Timestamp of the active segment's first batch that holds records (Kafka's rolling base: the
   * first batch's max timestamp), or undefined when it holds none (Kafka does not roll an empty
   * segment).
   */
  private activeSince(): number | undefined {
    let pos = Math.max(this.log.activeSegmentStart, this.log.startPosition);
    while (pos < this.log.endPosition) {
      const { records, next } = this.log.readBatch(pos, 64 * 1024, 16);
      if (records.length === 0) return undefined;
      for (const r of records) if (isBatch(r.payload) && batchRecordCount(r.payload) > 0) return r.timestamp;
      pos = next;
    }
    return undefined;
  }
}
