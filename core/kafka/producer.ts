import type { Acks, Message, ProducerRecord, RecordMetadata } from './types';
import { BatchEncoder, byteLengthOf, fixedRecordBytes, headersByteLength } from './batch-encoder';
import { BATCH_HEADER_BYTES } from './record-batch';
import { StickyPartitioner } from './partitioner';
import { KafkaErrors } from './errors';
import { describeValue, Errors } from '../errors';
import { optionsArg } from './validate';

/** One partition as the producer needs it: the engine's Partition, or an AttachedPartition in a worker. */
export interface ProducerPartition {
  append(batch: Buffer, count: number, maxTimestamp: number): { baseOffset: number; position: number };
  durable(position?: number): Promise<void>;
}

export interface ProducerTopic {
  readonly name: string;
  readonly maxBatchBytes: number;
  readonly partitions: readonly ProducerPartition[];
}

/** What a producer writes through: the KafkaEngine itself, or an AttachedEngine on a worker thread. */
export interface ProducerHost {
  clock(): number;
  topicForWrite(name: string): ProducerTopic;
  notifyAppended(): void;
}

export interface ProducerOptions {
  /** Default acks for sends that do not name one. Default 1 (the partition log has the records). */
  acks?: Acks;
  /** Bytes a keyless partition receives before the sticky partitioner moves on. Default 16384. */
  stickyBatchBytes?: number;
}

/**
 * A producer (KafkaJS's `producer.send`, Java's `KafkaProducer`). One send validates and partitions
 * every message first (nothing is written if any message is bad), then writes each partition's
 * messages as one record batch — one storage append per partition per send:
 *   acks 0      appended, resolved at once, baseOffset -1 (fire and forget, as in Kafka);
 *   acks 1      appended to the partition log (page cache; survives a process crash, not a power cut);
 *   acks 'all'  resolved only once the batch is durable on disk (fdatasync; concurrent sends share one).
 */
export class Producer {
  private readonly encoder = new BatchEncoder();
  private readonly partitioner: StickyPartitioner;
  private readonly acks: Acks;
  private partitionOf = new Int32Array(1024);
  private sizes = new Int32Array(1024);
  private order = new Int32Array(1024);
  private closed = false;

  constructor(private readonly engine: ProducerHost, options: ProducerOptions = {}) {
    options = optionsArg(options, 'producer(options)');
    this.acks = checkAcks(options.acks ?? 1);
    this.partitioner = new StickyPartitioner(options.stickyBatchBytes ?? 16384);
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const { results, durable } = this.sendInternal(record);
    if (durable !== null) await durable;
    return results;
  }

  /**
   * The synchronous core of send: appends and returns the metadata, plus a promise to await when
   * acks is 'all'. Exposed for the in-process benchmark and the worker host.
   */
  sendInternal(record: ProducerRecord): { results: RecordMetadata[]; durable: Promise<unknown> | null } {
    if (this.closed) throw Errors.closed('producer');
    if (record === null || typeof record !== 'object') throw Errors.invalidArg('send(record)', 'an object { topic, messages }');
    const acks = record.acks === undefined ? this.acks : checkAcks(record.acks);
    const topic = this.engine.topicForWrite(record.topic);
    const messages = record.messages;
    if (!Array.isArray(messages)) throw Errors.invalidArg('record.messages', 'an array of messages');
    const n = messages.length;
    if (n === 0) return { results: [], durable: null };
    if (this.sizes.length < n) {
      const cap = Math.max(n, this.sizes.length * 2);
      this.sizes = new Int32Array(cap);
      this.partitionOf = new Int32Array(cap);
      this.order = new Int32Array(cap);
    }
    const numPartitions = topic.partitions.length;
    const maxRecord = topic.maxBatchBytes;
    const now = this.engine.clock();
    let perRecordTs = false;
    let single = -1;
    let mixed = false;
    // Pass 1: validate, size and partition every message; nothing is written if one is bad.
    for (let i = 0; i < n; i++) {
      const m = messages[i] as Message;
      if (m === null || typeof m !== 'object') throw KafkaErrors.invalidRecord(`messages[${i}] is not an object`);
      const keyLen = byteLengthOf(m.key);
      const size = 4 + Math.max(0, keyLen) + 4 + Math.max(0, byteLengthOf(m.value)) + (m.headers === undefined ? 2 : headersByteLength(m.headers));
      if (size + 8 + BATCH_HEADER_BYTES > maxRecord) throw KafkaErrors.recordTooLarge(size + 8 + BATCH_HEADER_BYTES, maxRecord);
      this.sizes[i] = size;
      if (m.timestamp !== undefined) {
        if (typeof m.timestamp !== 'number' || !(m.timestamp >= 0) || !Number.isFinite(m.timestamp)) throw KafkaErrors.invalidTimestamp(m.timestamp);
        if (m.timestamp !== now) perRecordTs = true;
      }
      let p: number;
      if (m.partition !== undefined && m.partition !== null) {
        p = m.partition;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= numPartitions) throw KafkaErrors.unknownPartition(topic.name, p, numPartitions);
      } else if (keyLen >= 0) {
        const k = m.key!;
        p = this.partitioner.forKey(typeof k === 'string' ? Buffer.from(k, 'utf8') : k, numPartitions);
      } else p = this.partitioner.forKeyless(topic.name, numPartitions, size);
      this.partitionOf[i] = p;
      if (single === -1) single = p;
      else if (p !== single) mixed = true;
    }
    return this.writeAll(topic, messages, n, single, mixed, perRecordTs, now, acks);
  }

  /**
   * `count` keyless values of `size` bytes back to back in `data` as one send to `topicName`: the
   * same records, partitions, batches and result as `sendInternal` with those messages, without an
   * object per message (the batch is encoded straight from `data`). The caller checked that `data`
   * holds count × size bytes.
   */
  sendFixedInternal(topicName: string, data: Uint8Array, count: number, size: number, acks: Acks = this.acks, wantResults = true): { results: RecordMetadata[]; durable: Promise<unknown> | null } {
    if (this.closed) throw Errors.closed('producer');
    const topic = this.engine.topicForWrite(topicName);
    if (count === 0) return { results: [], durable: null };
    const recordBytes = fixedRecordBytes(size);
    const maxRecord = topic.maxBatchBytes;
    if (recordBytes + 8 + BATCH_HEADER_BYTES > maxRecord) throw KafkaErrors.recordTooLarge(recordBytes + 8 + BATCH_HEADER_BYTES, maxRecord);
    if (this.sizes.length < count) {
      const cap = Math.max(count, this.sizes.length * 2);
      this.sizes = new Int32Array(cap);
      this.partitionOf = new Int32Array(cap);
      this.order = new Int32Array(cap);
    }
    const numPartitions = topic.partitions.length;
    const now = this.engine.clock();
    let single = -1;
    let mixed = false;
    for (let i = 0; i < count; i++) {
      const p = this.partitioner.forKeyless(topic.name, numPartitions, recordBytes);
      this.sizes[i] = recordBytes;
      this.partitionOf[i] = p;
      if (single === -1) single = p;
      else if (p !== single) mixed = true;
    }
    if (mixed) {
      // The sticky partition moved on inside this send: the general path, with the partitions chosen above.
      const messages: Message[] = new Array(count);
      for (let i = 0; i < count; i++) messages[i] = { key: null, value: Buffer.from(data.buffer, data.byteOffset + i * size, size) };
      return this.writeAll(topic, messages, count, single, true, false, now, acks);
    }
    const partition = topic.partitions[single]!;
    const perBatch = Math.max(1, Math.floor((maxRecord - BATCH_HEADER_BYTES) / recordBytes));
    let baseOffset = -1;
    let position = 0;
    for (let start = 0; start < count; start += perBatch) {
      const end = Math.min(count, start + perBatch);
      const batch = this.encoder.encodeFixed(data, start, end, size, now);
      const r = partition.append(batch, end - start, now);
      if (baseOffset < 0) baseOffset = r.baseOffset;
      position = r.position;
    }
    this.engine.notifyAppended();
    // A caller that needs no metadata (DirectProducer.appendFixed) gets no objects for it.
    if (!wantResults && acks !== 'all' && acks !== -1) return NO_RESULTS;
    const results: RecordMetadata[] = [{ topic: topic.name, partition: single, baseOffset: acks === 0 ? -1 : baseOffset, count, logAppendTime: -1 }];
    return { results, durable: acks === 'all' || acks === -1 ? partition.durable(position) : null };
  }

  /** Pass 2 of a send: one batch per partition (split at the batch size limit), appended in partition order. */
  private writeAll(topic: ProducerTopic, messages: readonly Message[], n: number, single: number, mixed: boolean, perRecordTs: boolean, now: number, acks: Acks): { results: RecordMetadata[]; durable: Promise<unknown> | null } {
    const numPartitions = topic.partitions.length;
    const results: RecordMetadata[] = [];
    const positions: Array<[number, number]> = [];
    if (!mixed) {
      this.writePartition(topic, single, messages, null, 0, n, perRecordTs, now, results, positions, acks);
    } else {
      const counts = new Int32Array(numPartitions + 1);
      for (let i = 0; i < n; i++) counts[this.partitionOf[i]! + 1]!++;
      for (let p = 0; p < numPartitions; p++) counts[p + 1]! += counts[p]!;
      const starts = counts.slice();
      for (let i = 0; i < n; i++) this.order[counts[this.partitionOf[i]!]!++] = i;
      for (let p = 0; p < numPartitions; p++) {
        if (starts[p + 1]! > starts[p]!) this.writePartition(topic, p, messages, this.order, starts[p]!, starts[p + 1]!, perRecordTs, now, results, positions, acks);
      }
    }
    this.engine.notifyAppended();
    let durable: Promise<unknown> | null = null;
    if (acks === 'all' || acks === -1) durable = Promise.all(positions.map(([p, pos]) => topic.partitions[p]!.durable(pos)));
    return { results, durable };
  }

  private writePartition(topic: ProducerTopic, p: number, messages: readonly Message[], order: Int32Array | null, from: number, to: number, perRecordTs: boolean, now: number, results: RecordMetadata[], positions: Array<[number, number]>, acks: Acks): void {
    const partition = topic.partitions[p]!;
    const limit = topic.maxBatchBytes;
    let baseOffset = -1;
    let lastPosition = 0;
    let start = from;
    while (start < to) {
      // Cut the batch where it would exceed the maximum batch size.
      let end = start;
      let bytes = BATCH_HEADER_BYTES;
      const extra = perRecordTs ? 8 : 0;
      while (end < to) {
        const s = this.sizes[order === null ? end : order[end]!]! + extra;
        if (end > start && bytes + s > limit) break;
        bytes += s;
        end++;
      }
      const { bytes: batch, maxTimestamp } = this.encoder.encode(messages, order, start, end, this.sizes, perRecordTs, now);
      const r = partition.append(batch, end - start, maxTimestamp);
      if (baseOffset < 0) baseOffset = r.baseOffset;
      lastPosition = r.position;
      start = end;
    }
    positions.push([p, lastPosition]);
    results.push({ topic: topic.name, partition: p, baseOffset: acks === 0 ? -1 : baseOffset, count: to - from, logAppendTime: -1 });
  }

  /** Partition of each message of the last successful send, in message order (Java's per-record RecordMetadata.partition). */
  lastSendPartitions(count: number): Int32Array {
    return this.partitionOf.slice(0, count);
  }

  close(): void {
    this.closed = true;
  }
}

const NO_RESULTS: { results: RecordMetadata[]; durable: null } = Object.freeze({ results: Object.freeze([]) as unknown as RecordMetadata[], durable: null });

function checkAcks(acks: unknown): Acks {
  if (acks === 0 || acks === 1 || acks === -1 || acks === 'all') return acks;
  throw Errors.invalidArg('acks', "0, 1, -1 or 'all'", { acks: describeValue(acks) });
}
