/**
 * The built-in Kafka adapter: the log model of the conformance harness over mqlab's in-process
 * Kafka engine (core/kafka). `mqlab conform --model kafka --adapter builtin` loads this file.
 *
 * Message ids travel in the `mqlab-id` record header. The engine's clock is the real clock plus a
 * virtual offset that `advanceTime` moves (session timeouts, retention), and advancing runs
 * retention at once, as the engine's retention timer would have. `restartBroker` closes the engine
 * and reopens it on the same directory (clients opened before are closed by it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaEngine } from '../../../core/kafka/engine';
import type { Consumer } from '../../../core/kafka/consumer';
import type { ConsumerRecord, Message, RecordMetadata } from '../../../core/kafka/types';
import { serveKafka } from '../../../core/kafka/worker-host';
import { connectKafka, type RemoteConsumer, type RemoteKafka } from '../../../core/kafka/remote';
import type { RpcServer } from '../../../core/threads';
import { MqlabError } from '../../../core/errors';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { AdapterOptions, CreateAdapter, WorkerSpec } from '../common';
import type {
  Acks,
  ConsumedRecord,
  ConsumerOptions,
  LogAdapter,
  LogCapability,
  LogConsumer,
  LogProducer,
  ProduceRecord,
  ProduceResult,
  ProducerOptions,
  TopicSpec,
} from '../log-model';
import type { AdapterInfo } from '../common';

const ID_HEADER = 'mqlab-id';

const BUILTIN_INFO: AdapterInfo<'kafka', LogCapability> = {
  model: 'kafka',
  name: 'mqlab built-in kafka engine',
  guarantee: 'at-least-once',
  capabilities: [
    'acks-0',
    'acks-1',
    'acks-all',
    'keyed-partitioning',
    'explicit-partition',
    'consumer-groups',
    'manual-commit',
    'seek',
    'offsets-for-times',
    'auto-offset-reset',
    'retention',
    'headers',
    'consumer-crash',
    'broker-restart',
    'virtual-time',
    'worker-threads',
  ],
};

class BuiltinKafkaAdapter implements LogAdapter {
  readonly info: AdapterInfo<'kafka', LogCapability> = BUILTIN_INFO;
  private engine: KafkaEngine;
  private readonly servers: RpcServer[] = [];
  private skewMs = 0;
  private readonly clock = () => Date.now() + this.skewMs;

  constructor(private readonly dataDir: string, private readonly ownsDir: boolean) {
    this.engine = this.openEngine();
  }

  private openEngine(): KafkaEngine {
    // Retention runs when time is advanced, so the engine's own timer is off.
    return KafkaEngine.open(this.dataDir, { clock: this.clock, retentionCheckIntervalMs: 0, segmentBytes: 64 * 1024 });
  }

  async createTopic(topic: string, spec: TopicSpec): Promise<void> {
    const opts: { numPartitions: number; retentionMs?: number; retentionBytes?: number } = { numPartitions: spec.partitions };
    if (spec.retentionMs !== undefined) opts.retentionMs = spec.retentionMs;
    if (spec.retentionBytes !== undefined) opts.retentionBytes = spec.retentionBytes;
    this.engine.createTopic(topic, opts);
  }

  async deleteTopic(topic: string): Promise<void> {
    this.engine.deleteTopic(topic);
  }

  async offsets(topic: string): Promise<{ partition: number; start: number; end: number }[]> {
    return this.engine.describeTopic(topic).partitions.map((p) => ({ partition: p.partition, start: p.logStartOffset, end: p.logEndOffset }));
  }

  async producer(options: ProducerOptions): Promise<LogProducer> {
    const engine = this.engine;
    const producer = engine.producer({ acks: options.acks });
    return {
      async send(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
        const now = engine.clock();
        const metas = await producer.send({ topic, messages: toMessages(records), acks: options.acks });
        return toResults(topic, records, metas, producer.lastSendPartitions(records.length), options.acks, now);
      },
      async close() {
        producer.close();
      },
    };
  }

  async workerSpec(): Promise<WorkerSpec> {
    const { port1, port2 } = new MessageChannel();
    this.servers.push(serveKafka(this.engine, port1));
    return { modulePath: __filename, options: {}, data: { port: port2 }, transferList: [port2] };
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    const c = this.engine.consumer({
      groupId: options.groupId,
      clientId: options.clientId ?? 'conformance',
      autoOffsetReset: options.autoOffsetReset ?? 'latest',
      autoCommit: false,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    });
    return new BuiltinLogConsumer(c);
  }

  async advanceTime(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError('advanceTime(ms) needs ms >= 0');
    this.skewMs += ms;
    if (!this.engine.isClosed) this.engine.applyRetention();
  }

  async restartBroker(): Promise<void> {
    for (const srv of this.servers.splice(0)) srv.close();
    this.engine.close();
    this.engine = this.openEngine();
  }

  async close(): Promise<void> {
    for (const srv of this.servers.splice(0)) srv.close();
    this.engine.close();
    if (this.ownsDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

class BuiltinLogConsumer implements LogConsumer {
  constructor(private readonly c: Consumer) {}

  async subscribe(topics: readonly string[]): Promise<void> {
    this.c.subscribe(topics);
  }

  async poll(options: { maxRecords: number; timeoutMs: number }): Promise<ConsumedRecord[]> {
    const records = await this.c.poll(options.timeoutMs, options.maxRecords);
    return records.map(toConsumed);
  }

  async assignment() {
    return this.c.assignment();
  }

  async commit(offsets?: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    await this.c.commit(offsets);
  }

  async committed(partitions: readonly { topic: string; partition: number }[]) {
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: this.c.committed(tp) }));
  }

  async seek(target: { topic: string; partition: number; offset: number }): Promise<void> {
    this.c.seek(target);
  }

  async offsetsForTime(topic: string, timestamp: number) {
    const partitions = this.c.partitionsFor(topic);
    return this.c.offsetsForTimes(partitions.map((tp) => ({ ...tp, timestamp }))).map((r) => ({ partition: r.partition, offset: r.offset }));
  }

  async close(): Promise<void> {
    await this.c.close();
  }

  async crash(): Promise<void> {
    // In process, the engine sees its client die at once (as a broker sees a closed connection);
    // the session-timeout path is exercised by advancing virtual time instead.
    this.c.abandon({ detected: true });
  }
}

function toMessages(records: readonly ProduceRecord[]): Message[] {
  return records.map((r) => {
    const m: Message = { key: r.key ?? null, value: r.value ?? null, headers: { ...(r.headers ?? {}), [ID_HEADER]: r.id } };
    if (r.partition !== undefined) m.partition = r.partition;
    if (r.timestamp !== undefined) m.timestamp = r.timestamp;
    return m;
  });
}

/** Per-record results: the records of one partition got consecutive offsets from its baseOffset, in order. */
function toResults(topic: string, records: readonly ProduceRecord[], metas: readonly RecordMetadata[], partitions: ArrayLike<number>, acks: Acks, now: number): ProduceResult[] {
  const next = new Map<number, number>();
  for (const m of metas) next.set(m.partition, m.baseOffset);
  return records.map((r, i) => {
    const partition = partitions[i]!;
    let offset: number | null = null;
    if (acks !== 0) {
      offset = next.get(partition)!;
      next.set(partition, offset + 1);
    }
    return { id: r.id, topic, partition, offset, timestamp: r.timestamp ?? now };
  });
}

/**
 * The adapter re-created on a worker thread (workerSpec): producers and consumers reach the main
 * thread's engine over the MessagePort (core/kafka/remote.ts); each consumer is a group member on
 * the engine's thread, driven by RPC. Restart, time and crash hooks stay on the main thread's adapter.
 */
class WorkerKafkaAdapter implements LogAdapter {
  readonly info: AdapterInfo<'kafka', LogCapability>;
  private readonly kafka: RemoteKafka;

  constructor(port: MessagePort) {
    this.kafka = connectKafka(port);
    // Hooks (restart, time, crash, workers) belong to the main thread's adapter.
    const hooks = new Set(['broker-restart', 'virtual-time', 'worker-threads', 'consumer-crash']);
    this.info = { ...BUILTIN_INFO, name: 'mqlab built-in kafka engine (worker thread)', capabilities: BUILTIN_INFO.capabilities.filter((c) => !hooks.has(c)) };
  }

  async createTopic(topic: string, spec: TopicSpec): Promise<void> {
    await this.kafka.createTopic(topic, { numPartitions: spec.partitions, ...(spec.retentionMs !== undefined ? { retentionMs: spec.retentionMs } : {}), ...(spec.retentionBytes !== undefined ? { retentionBytes: spec.retentionBytes } : {}) });
  }

  async deleteTopic(): Promise<void> {
    throw new MqlabError('ERR_UNSUPPORTED', 'deleteTopic runs on the main thread adapter');
  }

  async offsets(topic: string): Promise<{ partition: number; start: number; end: number }[]> {
    return (await this.kafka.describeTopic(topic)).partitions.map((p) => ({ partition: p.partition, start: p.logStartOffset, end: p.logEndOffset }));
  }

  async producer(options: ProducerOptions): Promise<LogProducer> {
    const producer = this.kafka.producer({ acks: options.acks });
    return {
      async send(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
        const now = Date.now();
        const { metadata, partitions } = await producer.sendWithPartitions({ topic, messages: toMessages(records) });
        return toResults(topic, records, metadata, partitions, options.acks, now);
      },
      async close() {},
    };
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    const c = await this.kafka.consumer({
      groupId: options.groupId,
      clientId: options.clientId ?? 'conformance',
      autoOffsetReset: options.autoOffsetReset ?? 'latest',
      autoCommit: false,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    });
    return new WorkerLogConsumer(this.kafka, c);
  }

  async close(): Promise<void> {
    this.kafka.close();
  }
}

/** A consumer on a worker thread: a RemoteConsumer, whose group member lives on the engine's thread. */
class WorkerLogConsumer implements LogConsumer {
  constructor(private readonly kafka: RemoteKafka, private readonly c: RemoteConsumer) {}

  async subscribe(topics: readonly string[]): Promise<void> {
    await this.c.subscribe([...topics]);
  }

  async poll(options: { maxRecords: number; timeoutMs: number }): Promise<ConsumedRecord[]> {
    const records = await this.c.poll(options.timeoutMs, options.maxRecords);
    return records.map(toConsumed);
  }

  async assignment() {
    return this.c.assignment();
  }

  async commit(offsets?: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    await this.c.commit(offsets === undefined ? undefined : [...offsets]);
  }

  async committed(partitions: readonly { topic: string; partition: number }[]) {
    return Promise.all(partitions.map(async (tp) => ({ topic: tp.topic, partition: tp.partition, offset: await this.c.committed({ topic: tp.topic, partition: tp.partition }) })));
  }

  async seek(target: { topic: string; partition: number; offset: number }): Promise<void> {
    await this.c.seek({ topic: target.topic, partition: target.partition, offset: target.offset });
  }

  async offsetsForTime(topic: string, timestamp: number) {
    const partitions = (await this.kafka.describeTopic(topic)).partitions;
    const found = await this.c.offsetsForTimes(partitions.map((p) => ({ topic, partition: p.partition, timestamp })));
    return found.map((r) => ({ partition: r.partition, offset: r.offset }));
  }

  async close(): Promise<void> {
    await this.c.close();
  }

  async crash(): Promise<void> {
    throw new MqlabError('ERR_UNSUPPORTED', 'consumer crashes are run on the main thread adapter');
  }
}

/** Bytes as text; over the thread boundary keys and header values arrive as Uint8Array, not Buffer. */
function utf8(v: Uint8Array | string): string {
  return typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
}

function toConsumed(r: ConsumerRecord): ConsumedRecord {
  const headers: Record<string, string> = {};
  let id = '';
  for (const name in r.headers) {
    const v = r.headers[name];
    if (name === ID_HEADER) id = v ? utf8(v) : '';
    else headers[name] = v ? utf8(v) : '';
  }
  return { id, topic: r.topic, partition: r.partition, offset: r.offset, key: r.key ? utf8(r.key) : null, value: r.value, headers, timestamp: r.timestamp };
}

export const createAdapter: CreateAdapter<LogAdapter> = (options: AdapterOptions) => {
  const port = (options.worker?.data as { port?: MessagePort } | undefined)?.port;
  if (port) return new WorkerKafkaAdapter(port);
  if (options.dataDir) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    return new BuiltinKafkaAdapter(path.join(options.dataDir, 'kafka'), false);
  }
  return new BuiltinKafkaAdapter(fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-kafka-')), true);
};
