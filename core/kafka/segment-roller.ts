import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PartitionLog } from './storage';
import { BATCH_HEADER_BYTES, BATCH_MAGIC, batchRecordCount, isBatch } from './record-batch';

/*
 * Segment layout facts of the storage core this file relies on (native/frame.h, docs/api.md
 * "On disk"): segment files are named by their base position (20 digits + ".log"), positions run
 * on across segments (a new segment's base is the old one's end), a segment's data starts after a
 * 64-byte header and keeps 16 bytes for the end marker, a frame is a 16-byte header plus the
 * payload padded to 8 bytes, and the core rolls to a new segment when a frame does not fit.
 * test/kafka/segment-roll.test.ts checks a roll really starts a new segment.
 */
const SEGMENT_HEADER_BYTES = 64;
const SEGMENT_END_BYTES = 16;
const FRAME_HEADER_BYTES = 16;
const SEGMENT_NAME = /^(\d{20})\.log$/;

/** Frames written to fill a segment carry timestamp 0: the core keeps a segment's newest timestamp as a max, so they do not extend its age. */
const FILLER_TIMESTAMP = 0;

/**
 * An empty record batch (no records) at `baseOffset`, `bytes` long (the rest zeros): a reader
 * skips it (it adds no record and ends at its own base offset), recovery accepts it, the indexes
 * ignore it (max timestamp -1).
 */
export function emptyBatch(bytes: number, baseOffset: number): Buffer {
  const b = Buffer.alloc(Math.max(BATCH_HEADER_BYTES, bytes));
  b[0] = BATCH_MAGIC;
  b.writeUInt32LE(0, 4);
  b.writeDoubleLE(baseOffset, 8);
  b.writeDoubleLE(-1, 16);
  b.writeDoubleLE(-1, 24);
  return b;
}

function frameBytes(payloadBytes: number): number {
  return (FRAME_HEADER_BYTES + payloadBytes + 7) & ~7;
}

/**
 * Kafka's `segment.ms` for one partition log: the active segment rolls once its first record
 * batch is `segmentMs` old (checked when an append arrives and when retention runs), so time-based
 * retention can delete a low-traffic partition's data, which would otherwise sit in the active
 * segment (never deleted) until the segment fills.
 *
 * The storage core has no roll call, so a roll fills the rest of the active segment with empty
 * batches (timestamp 0, so the sealed segment's age stays that of its records) and then appends
 * one more empty batch, stamped `now`, which no longer fits: the core rolls, and that batch opens
 * the new segment (whose age counts from its first batch with records, as in Kafka). The segment
 * files are preallocated, so the filling costs no disk space, only the copy (once per segment.ms).
 *
 * Not thread-safe by itself: the caller holds the partition's append lock (PartitionShare).
 */
export class SegmentRoller {
  /** Time at which the active segment (as last looked at) is due to roll; recomputed when reached. */
  private rollAt: number | undefined;

  constructor(
    private readonly log: PartitionLog,
    readonly segmentMs: number,
    /** Largest payload the log takes (its maxRecordBytes). */
    private readonly maxPayload: number,
  ) {}

  /** Whether the active segment holds records and its first batch is at least segmentMs old at `now`. */
  due(now: number): boolean {
    if (this.rollAt !== undefined && now < this.rollAt) return false;
    const since = this.activeSince();
    this.rollAt = since === undefined ? now + this.segmentMs : since + this.segmentMs;
    return since !== undefined && now >= this.rollAt;
  }

  /** Rolls if due (see `due`); `nextOffset` is the partition's log end offset. Returns whether it rolled. */
  rollIfDue(now: number, nextOffset: number): boolean {
    if (!this.due(now)) return false;
    this.roll(now, nextOffset);
    return true;
  }

  /** Seals the active segment now and starts a new one whose age counts from `now`. */
  roll(now: number, nextOffset: number): void {
    const active = this.activeSegment();
    if (active !== undefined) {
      let space = active.capacity - (this.log.endPosition - active.base) - SEGMENT_END_BYTES;
      const marker = frameBytes(BATCH_HEADER_BYTES);
      let filler: Buffer | undefined;
      while (space >= marker) {
        const payload = Math.min(this.maxPayload, space - FRAME_HEADER_BYTES) & ~7;
        if (payload < BATCH_HEADER_BYTES) break;
        filler ??= emptyBatch(Math.min(this.maxPayload, space - FRAME_HEADER_BYTES), nextOffset);
        this.log.append(filler.subarray(0, payload), FILLER_TIMESTAMP);
        space -= frameBytes(payload);
      }
    }
    // Does not fit in what is left: the core rolls, and this is the new segment's first record.
    this.log.append(emptyBatch(BATCH_HEADER_BYTES, nextOffset), now);
    this.rollAt = now + this.segmentMs;
  }

  /**
   * Timestamp of the active segment's first batch that holds records (Kafka's rolling base: the
   * first batch's max timestamp), or undefined when it holds none (Kafka does not roll an empty
   * segment; the empty batches of a roll do not count).
   */
  private activeSince(): number | undefined {
    const active = this.activeSegment();
    let pos = active === undefined ? this.log.startPosition : Math.max(active.base, this.log.startPosition);
    while (pos < this.log.endPosition) {
      const { records, next } = this.log.readBatch(pos, 64 * 1024, 16);
      if (records.length === 0) return undefined;
      for (const r of records) if (isBatch(r.payload) && batchRecordCount(r.payload) > 0) return r.timestamp;
      pos = next;
    }
    return undefined;
  }

  /** The newest segment file: its base position and data capacity. */
  private activeSegment(): { base: number; capacity: number } | undefined {
    let best: string | undefined;
    let base = -1;
    for (const name of fs.readdirSync(this.log.dir)) {
      const m = SEGMENT_NAME.exec(name);
      if (m === null) continue;
      const b = Number(m[1]);
      if (b > base) {
        base = b;
        best = name;
      }
    }
    if (best === undefined) return undefined;
    const size = fs.statSync(path.join(this.log.dir, best)).size;
    return { base, capacity: size - SEGMENT_HEADER_BYTES };
  }
}
