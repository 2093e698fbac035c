import type { LogRecord } from '../log/types';
import { describeValue, MqlabError } from '../errors';
import { openLog, type PartitionLog } from './storage';
import { PartitionShare } from './partition-share';
import { SegmentRoller } from './segment-roller';
import type { PartitionAttachInfo } from './partition';
import type { ProducerHost, ProducerPartition, ProducerTopic } from './producer';

/**
 * Direct access to an engine's partitions from a worker thread. The storage core shares one
 * native log between the threads of a process, so a worker can append to and read a partition's
 * commit log itself; the partition's PartitionShare (lock, next offset, append counter) keeps
 * offsets in log order whichever thread appends. The engine's thread indexes what workers append
 * when it next needs the indexes. Group membership, commits and topic admin stay with the engine
 * (over RPC, remote.ts); only the data path is direct.
 */
export interface TopicAttachInfo {
  name: string;
  maxBatchBytes: number;
  partitions: PartitionAttachInfo[];
  /** The engine's change counter (KafkaEngine.changes). */
  changes: SharedArrayBuffer;
}

export class AttachedPartition implements ProducerPartition {
  readonly log: PartitionLog;
  readonly share: PartitionShare;
  private readonly changes: Int32Array;
  private readonly roller: SegmentRoller;

  constructor(readonly info: PartitionAttachInfo, changes: SharedArrayBuffer) {
    this.log = openLog(info.logDir, { segmentBytes: info.segmentBytes, maxRecordBytes: info.maxBatchBytes, flush: info.flush });
    this.roller = new SegmentRoller(this.log, info.segmentMs);
    this.share = new PartitionShare(info.share);
    this.changes = new Int32Array(changes);
  }

  get nextOffset(): number {
    return this.share.nextOffset;
  }

  append(batch: Buffer, count: number, maxTimestamp: number): { baseOffset: number; position: number } {
    const share = this.share;
    share.lock();
    let base: number;
    let position: number;
    try {
      // segment.ms on this thread's clock, as the records' timestamps.
      this.roller.rollIfDue(Date.now());
      base = share.nextOffset;
      batch.writeDoubleLE(base, 8);
      position = this.log.append(batch, maxTimestamp);
      share.nextOffset = base + count;
    } finally {
      share.unlock();
    }
    share.appended();
    Atomics.add(this.changes, 0, 1);
    Atomics.notify(this.changes, 0);
    return { baseOffset: base, position };
  }

  durable(position?: number): Promise<void> {
    return this.log.durable(position);
  }

  read(position: number, maxBytes: number): { records: LogRecord[]; next: number } {
    return this.log.readBatch(position, maxBytes);
  }

  /** Frames from `position` into `target` (see PartitionLog.readBatchInto). */
  readInto(position: number, target: Uint8Array, maxBytes: number): number {
    return this.log.readBatchInto(position, target, maxBytes);
  }

  close(): void {
    this.log.close();
  }
}

export class AttachedTopic implements ProducerTopic {
  readonly name: string;
  readonly maxBatchBytes: number;
  readonly partitions: AttachedPartition[];

  constructor(info: TopicAttachInfo) {
    this.name = info.name;
    this.maxBatchBytes = info.maxBatchBytes;
    this.partitions = [];
    try {
      for (const p of info.partitions) this.partitions.push(new AttachedPartition(p, info.changes));
    } catch (e) {
      for (const p of this.partitions) p.close();
      throw e;
    }
  }

  close(): void {
    for (const p of this.partitions) p.close();
  }
}

/** The producer-facing engine of a worker: topics attached so far, the worker's clock. */
export class AttachedEngine implements ProducerHost {
  private readonly topics = new Map<string, AttachedTopic>();

  constructor(readonly clock: () => number = Date.now) {}

  attach(info: TopicAttachInfo): AttachedTopic {
    let t = this.topics.get(info.name);
    if (t === undefined) this.topics.set(info.name, (t = new AttachedTopic(info)));
    return t;
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  topicForWrite(name: string): AttachedTopic {
    const t = this.topics.get(name);
    if (t === undefined) throw new MqlabError('ERR_INVALID_ARG', `topic ${describeValue(name)} is not attached in this thread`);
    return t;
  }

  notifyAppended(): void {
    // Each attached append already bumps the engine's change counter.
  }

  close(): void {
    for (const t of this.topics.values()) t.close();
    this.topics.clear();
  }
}
