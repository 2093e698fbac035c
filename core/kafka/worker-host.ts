import type { MessagePort } from 'node:worker_threads';
import { serveRpc, type RpcServer } from '../threads';
import { Errors } from '../errors';
import { optionsArg } from './validate';
import type { KafkaEngine, CreateTopicOptions } from './engine';
import type { Consumer, ConsumerOptions } from './consumer';
import type { Producer } from './producer';
import type { TopicAttachInfo } from './attached';
import type { Acks, ConsumerRecord, Message, ProducerRecord, RecordMetadata, TopicPartition, TopicPartitionOffset } from './types';

/**
 * Values of polled records packed for another thread: one byte buffer plus per-record columns,
 * so a poll crosses the thread boundary as a few typed arrays instead of an object per record.
 */
export interface PackedRecords {
  count: number;
  /** Record values back to back (a null value is 0 bytes with length -1). */
  values: Uint8Array;
  valueLengths: Int32Array;
  partitions: Int32Array;
  offsets: Float64Array;
  timestamps: Float64Array;
  topics: string[];
}

/**
 * The engine's face towards worker threads, served over a MessagePort with core/threads' RPC
 * bridge (`serveKafka`). A worker reaches it with `connectKafka` (remote.ts). Consumers live here,
 * on the engine's thread, addressed by a numeric handle; a consumer whose port closes is dropped as
 * a crashed client would be.
 */
export class KafkaWorkerHost {
  private readonly consumers = new Map<number, Consumer>();
  private readonly producers = new Map<string, Producer>();
  private nextId = 1;

  constructor(private readonly engine: KafkaEngine) {}

  createTopic(name: string, options?: CreateTopicOptions): void {
    this.engine.createTopic(name, options);
  }

  describeTopic(name: string) {
    return this.engine.describeTopic(name);
  }

  listTopics(): string[] {
    return this.engine.listTopics();
  }

  /** One producer per acks setting is enough: a producer keeps no per-client state that matters across threads. */
  private producer(acks: Acks): Producer {
    const k = String(acks);
    let p = this.producers.get(k);
    if (p === undefined) this.producers.set(k, (p = this.engine.producer({ acks })));
    return p;
  }

  send(record: ProducerRecord, acks: Acks = 1): Promise<RecordMetadata[]> {
    return this.producer(acksOf(record, acks)).send(record);
  }

  /** As send, plus each message's partition in message order (Java's per-record RecordMetadata.partition). */
  async sendWithPartitions(record: ProducerRecord, acks: Acks = 1): Promise<{ metadata: RecordMetadata[]; partitions: number[] }> {
    const producer = this.producer(acksOf(record, acks));
    const { results, durable } = producer.sendInternal(record);
    const partitions = Array.from(producer.lastSendPartitions(record.messages.length));
    if (durable !== null) await durable;
    return { metadata: results, partitions };
  }

  /** `count` values of `size` bytes back to back in `data` (optional keys): the lean path for fixed-size records. */
  sendFixed(topic: string, data: Uint8Array, count: number, size: number, keys: ReadonlyArray<string | undefined> | undefined, acks: Acks = 1): Promise<RecordMetadata[]> {
    if (keys !== undefined && keys !== null && !Array.isArray(keys)) throw Errors.invalidArg('sendFixed(keys)', 'an array of keys or undefined');
    if (!(data instanceof Uint8Array) || !Number.isInteger(count) || !Number.isInteger(size) || count < 0 || size < 0 || count * size > data.length) {
      throw Errors.invalidArg('sendFixed(data, count, size)', 'count values of size bytes inside data');
    }
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (keys === undefined || keys === null || keys.every((k) => k === undefined)) {
      const { results, durable } = this.producer(acks).sendFixedInternal(topic, buf, count, size);
      return durable === null ? Promise.resolve(results) : durable.then(() => results);
    }
    const messages: Message[] = new Array(count);
    for (let i = 0; i < count; i++) messages[i] = { key: keys?.[i] ?? null, value: buf.subarray(i * size, (i + 1) * size) };
    return this.producer(acks).send({ topic, messages });
  }

  /** Partition handles for a worker's direct data path (attached.ts); creates the topic when auto-create is on. */
  attachTopic(name: string): TopicAttachInfo {
    const t = this.engine.topicForWrite(name);
    return { name: t.name, maxBatchBytes: t.maxBatchBytes, partitions: t.partitions.map((p) => p.attachInfo()), changes: this.engine.changes };
  }

  /** See Consumer.syncDirect: the group step of a consumer whose worker reads the logs itself. */
  syncDirect(id: number, progress: TopicPartitionOffset[]) {
    return this.consumer(id).syncDirect(progress);
  }

  openConsumer(options: ConsumerOptions): number {
    options = optionsArg(options, 'consumer(options)');
    const id = this.nextId++;
    this.consumers.set(id, this.engine.consumer(options));
    return id;
  }

  private consumer(id: number): Consumer {
    const c = this.consumers.get(id);
    if (c === undefined) throw Errors.invalidArg('consumer handle', 'a handle from openConsumer that is still open', { id });
    return c;
  }

  subscribe(id: number, topics: string[]): void {
    this.consumer(id).subscribe(topics);
  }
  assign(id: number, partitions: TopicPartition[]): void {
    this.consumer(id).assign(partitions);
  }
  assignment(id: number): TopicPartition[] {
    return this.consumer(id).assignment();
  }
  poll(id: number, timeoutMs?: number, maxRecords?: number): Promise<ConsumerRecord[]> {
    return this.consumer(id).poll(timeoutMs, maxRecords);
  }
  async pollPacked(id: number, timeoutMs?: number, maxRecords?: number): Promise<PackedRecords> {
    return packRecords(await this.consumer(id).poll(timeoutMs, maxRecords));
  }
  commit(id: number, offsets?: TopicPartitionOffset[]): Promise<void> {
    return this.consumer(id).commit(offsets);
  }
  committed(id: number, tp: TopicPartition): number | null {
    return this.consumer(id).committed(tp);
  }
  position(id: number, tp: TopicPartition): number {
    return this.consumer(id).position(tp);
  }
  seek(id: number, tpo: TopicPartitionOffset): void {
    this.consumer(id).seek(tpo);
  }
  offsetsForTimes(id: number, query: Array<TopicPartition & { timestamp: number }>) {
    return this.consumer(id).offsetsForTimes(query);
  }
  async closeConsumer(id: number): Promise<void> {
    const c = this.consumers.get(id);
    this.consumers.delete(id);
    await c?.close();
  }
  abandonConsumer(id: number): void {
    const c = this.consumers.get(id);
    this.consumers.delete(id);
    c?.abandon({ detected: true });
  }

  /** Drops every consumer of this connection (the port closed: its thread is gone). */
  dropAll(): void {
    for (const id of [...this.consumers.keys()]) this.abandonConsumer(id);
  }
}

/** The acks of a send: the record's own, else the connection's (a non-object record fails in Producer.send). */
function acksOf(record: ProducerRecord, fallback: Acks): Acks {
  return (record !== null && typeof record === 'object' ? record.acks : undefined) ?? fallback;
}

export function packRecords(records: readonly ConsumerRecord[]): PackedRecords {
  const n = records.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += records[i]!.value?.length ?? 0;
  const values = new Uint8Array(bytes);
  const valueLengths = new Int32Array(n);
  const partitions = new Int32Array(n);
  const offsets = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const topics: string[] = new Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    if (r.value === null) valueLengths[i] = -1;
    else {
      values.set(r.value, pos);
      pos += r.value.length;
      valueLengths[i] = r.value.length;
    }
    partitions[i] = r.partition;
    offsets[i] = r.offset;
    timestamps[i] = r.timestamp;
    topics[i] = r.topic;
  }
  return { count: n, values, valueLengths, partitions, offsets, timestamps, topics };
}

/** Serves `engine` to the thread at the other end of `port`. */
export function serveKafka(engine: KafkaEngine, port: MessagePort): RpcServer {
  const host = new KafkaWorkerHost(engine);
  port.on('close', () => host.dropAll());
  return serveRpc(port, host);
}
