/**
 * Log-model adapter for a real Apache Kafka broker, over kafkajs.
 *
 *   createAdapter({url: 'kafka://127.0.0.1:9092'})
 *
 * kafkajs consumers are callback-driven (`eachBatch`), the harness polls: each consumer runs
 * kafkajs in the background and buffers fetched records (bounded, with heartbeats while full);
 * `poll` hands them out. After every group join kafkajs restarts each assigned partition at the
 * group's committed offset, so the buffer is dropped then (records polled but not committed
 * come again: at-least-once, as in Kafka).
 *
 * Each consumer has its own kafkajs client with a socket factory the adapter controls, so
 * `crash()` can cut its sockets without a LeaveGroup, as a killed process would.
 */
import { connect as netConnect, Socket } from 'node:net';
import {
  Kafka, logLevel, Partitioners, type Admin, type Consumer, type EachBatchPayload, type ISocketFactory,
  type PartitionMetadata, type Producer,
} from 'kafkajs';
import { MqlabError } from '../../../core/errors';
import type { AdapterOptions, CommonCapability } from '../common';
import type {
  ConsumedRecord, ConsumerOptions, LogAdapter, LogCapability, LogConsumer, LogProducer, PollOptions, ProduceRecord,
  ProduceResult, ProducerOptions, TopicPartition, TopicPartitionOffset, TopicSpec,
} from '../log-model';
import { brokerUnreachable, isLocalPeer, parseBrokerUrl, restartPeer, toBuffer, withDeadline, type BrokerAddress } from './support';

const ID_HEADER = 'mqlab-id';
/** Records buffered per consumer before the fetch loop waits for polls. */
const MAX_BUFFERED = 5000;

/** kafkajs errors carry Kafka's own error type names (UNKNOWN_TOPIC_OR_PARTITION, ILLEGAL_GENERATION). */
function isConnectionError(e: unknown): boolean {
  const err = e as { name?: string; originalError?: unknown; cause?: unknown } | null;
  if (!err) return false;
  if (err.name === 'KafkaJSConnectionError' || err.name === 'KafkaJSConnectionClosedError' || err.name === 'KafkaJSRequestTimeoutError') return true;
  return isConnectionError(err.originalError) || isConnectionError(err.cause);
}

/** kafkajs errors carry Kafka's own error type names; a lost broker becomes ERR_BROKER_UNREACHABLE naming its address. */
function kafkaError(e: unknown, what: string, address?: BrokerAddress): MqlabError {
  if (e instanceof MqlabError) return e;
  const err = e as { type?: unknown; name?: string; message?: string };
  if (isConnectionError(e) && address) return brokerUnreachable('Kafka', address, new Error(`${what}: ${err?.message ?? String(e)}`));
  const code = typeof err?.type === 'string' ? err.type : isConnectionError(e) ? 'ERR_BROKER_UNREACHABLE' : 'ERR_BROKER';
  return new MqlabError(code, `kafka ${what}${address ? ` (${address.url})` : ''}: ${err?.message ?? String(e)}`);
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

interface ClientSet {
  kafka: Kafka;
  /** Destroys every socket and refuses new ones (a killed process). */
  cut(): void;
}

function makeClient(address: BrokerAddress, clientId: string, timeoutMs: number, retries: number): ClientSet {
  const sockets = new Set<Socket>();
  let dead = false;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    if (dead) {
      const s = new Socket();
      process.nextTick(() => s.destroy(new Error('client crashed by the harness')));
      return s;
    }
    const s = netConnect({ host, port }, onConnect);
    s.setKeepAlive(true, 60_000);
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    return s;
  };
  const kafka = new Kafka({
    clientId,
    brokers: [`${address.host}:${address.port}`],
    connectionTimeout: Math.min(timeoutMs, 5000),
    requestTimeout: timeoutMs,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
    socketFactory,
  });
  return {
    kafka,
    cut: () => {
      dead = true;
      for (const s of sockets) s.destroy(new Error('client crashed by the harness'));
      sockets.clear();
    },
  };
}

class KafkaProducerAdapter implements LogProducer {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly metadata = new Map<string, PartitionMetadata[]>();

  constructor(private readonly producer: Producer, private readonly admin: Admin, private readonly acks: number, private readonly address: BrokerAddress) {}

  private async partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    let parts = this.metadata.get(topic);
    if (!parts) {
      const md = await this.admin.fetchTopicMetadata({ topics: [topic] });
      parts = md.topics[0]?.partitions.map((p) => ({ ...p, partitionErrorCode: p.partitionErrorCode ?? 0 })) as PartitionMetadata[];
      if (!parts || parts.length === 0) throw new MqlabError('UNKNOWN_TOPIC_OR_PARTITION', `kafka topic ${topic} has no partitions`);
      this.metadata.set(topic, parts);
    }
    return parts;
  }

  async send(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    if (records.length === 0) return [];
    const parts = await this.partitionsOf(topic).catch((e: unknown) => { throw kafkaError(e, `metadata for ${topic}`, this.address); });
    // The partition is chosen here with kafkajs' own (Java-compatible murmur2) partitioner, so
    // each record's offset can be read off the per-partition base offsets of the reply.
    const now = Date.now();
    const messages = records.map((r) => {
      const headers: Record<string, string> = { ...(r.headers ?? {}), [ID_HEADER]: r.id };
      const key = r.key === undefined || r.key === null ? null : r.key;
      const value = r.value === undefined || r.value === null ? null : toBuffer(r.value);
      const timestamp = r.timestamp ?? now;
      const partition = r.partition ?? this.partitioner({ topic, partitionMetadata: parts, message: { key, value, headers } });
      if (!Number.isInteger(partition) || partition < 0 || partition >= parts.length) {
        throw new MqlabError('UNKNOWN_TOPIC_OR_PARTITION', `kafka topic ${topic} has no partition ${String(partition)}`);
      }
      return { key, value, headers, partition, timestamp: String(timestamp) };
    });
    let meta;
    try {
      meta = await this.producer.send({ topic, acks: this.acks, messages });
    } catch (e) {
      throw kafkaError(e, `produce to ${topic}`, this.address);
    }
    const base = new Map<number, number>();
    for (const m of meta ?? []) if (m.baseOffset !== undefined && m.errorCode === 0) base.set(m.partition, Number(m.baseOffset));
    const seen = new Map<number, number>();
    return messages.map((m, i) => {
      const n = seen.get(m.partition) ?? 0;
      seen.set(m.partition, n + 1);
      const b = base.get(m.partition);
      return { id: records[i]!.id, topic, partition: m.partition, offset: b === undefined ? null : b + n, timestamp: Number(m.timestamp) };
    });
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}

class KafkaConsumerAdapter implements LogConsumer {
  private readonly consumer: Consumer;
  private buffer: ConsumedRecord[] = [];
  private waiters: (() => void)[] = [];
  /** Next offset to accept from a fetch, per partition (after a seek: the seek target). */
  private readonly fetchPos = new Map<string, number>();
  private readonly seekPending = new Map<string, number>();
  /** Position after the last record `poll` returned, per partition (what `commit()` commits). */
  private readonly returnedPos = new Map<string, TopicPartitionOffset>();
  private assigned: TopicPartition[] = [];
  private failure: MqlabError | null = null;
  private running = false;
  private stopped = false;
  private joined = false;
  private joinWaiters: (() => void)[] = [];

  constructor(
    private readonly client: ClientSet,
    private readonly admin: Admin,
    private readonly options: ConsumerOptions,
    private readonly timeoutMs: number,
    private readonly address: BrokerAddress,
  ) {
    const session = options.sessionTimeoutMs ?? 10_000;
    this.consumer = client.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: session,
      rebalanceTimeout: Math.max(session, 10_000),
      heartbeatInterval: Math.max(100, Math.min(3000, Math.floor(session / 3))),
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment));
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      // kafkajs restarts itself after retriable errors (e.g. GROUP_LOAD_IN_PROGRESS right after a
      // broker restart); only a crash it gives up on is the consumer's failure.
      // A lost broker is reported at once, naming it; the harness reopens clients after a restart.
      if (e.payload.restart && !isConnectionError(e.payload.error)) return;
      this.failure = kafkaError(e.payload.error, `consumer ${options.clientId ?? ''} in group ${options.groupId} stopped`, this.address);
      this.wake();
    });
  }

  private onJoin(memberAssignment: Record<string, number[]>): void {
    this.joined = true;
    for (const f of this.joinWaiters.splice(0)) f();
    // kafkajs resumes every assigned partition at the committed offset after a join.
    this.buffer = [];
    this.fetchPos.clear();
    this.seekPending.clear();
    this.returnedPos.clear();
    this.assigned = Object.entries(memberAssignment).flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })));
    if (this.options.autoOffsetReset === 'none' && this.assigned.length > 0) {
      void this.committed(this.assigned).then((offsets) => {
        const missing = offsets.filter((o) => o.offset === null);
        if (missing.length > 0) {
          this.failure = new MqlabError('NO_OFFSET_FOR_PARTITION', `kafka group ${this.options.groupId} has no committed offset for ${missing.map((m) => `${m.topic}-${m.partition}`).join(', ')} and auto.offset.reset is none`);
          this.wake();
        }
      }, () => undefined);
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async onBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const key = tpKey(batch.topic, batch.partition);
    let from = this.fetchPos.get(key) ?? -1;
    const seekTarget = this.seekPending.get(key);
    if (seekTarget !== undefined) {
      // A batch fetched before the seek starts past the target (or is the wrong range): drop it.
      const first = batch.messages[0] ? Number(batch.messages[0].offset) : Number.POSITIVE_INFINITY;
      if (first > seekTarget) return;
      this.seekPending.delete(key);
      from = seekTarget;
    }
    if (this.options.autoOffsetReset === 'none' && this.failure?.code === 'NO_OFFSET_FOR_PARTITION') return;
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      if (offset < from) continue;
      const headers: Record<string, string> = {};
      let id = '';
      for (const [k, v] of Object.entries(m.headers ?? {})) {
        const text = Array.isArray(v) ? String(v[0] ?? '') : v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        if (k === ID_HEADER) id = text; else headers[k] = text;
      }
      this.buffer.push({
        id, topic: batch.topic, partition: batch.partition, offset,
        key: m.key ? m.key.toString('utf8') : null, value: m.value, headers, timestamp: Number(m.timestamp),
      });
      from = offset + 1;
      p.resolveOffset(m.offset);
    }
    this.fetchPos.set(key, from);
    this.wake();
    while (this.buffer.length >= MAX_BUFFERED && p.isRunning() && !p.isStale() && !this.stopped) {
      await p.heartbeat();
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }

  async subscribe(topics: readonly string[]): Promise<void> {
    if (this.running) throw new MqlabError('ERR_INVALID_ARG', 'kafka consumer is already subscribed');
    try {
      await withDeadline(this.consumer.connect(), this.timeoutMs, 'kafka consumer connect');
      for (const topic of topics) await this.consumer.subscribe({ topic, fromBeginning: this.options.autoOffsetReset === 'earliest' });
      await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.onBatch(p) });
      this.running = true;
    } catch (e) {
      throw kafkaError(e, `subscribe ${topics.join(', ')}`, this.address);
    }
    // subscribe = joined: wait for the first assignment, as the harness' engines do (after a
    // broker restart the group coordinator takes seconds to load).
    // Then let the first fetch after the join land in the buffer, so a caller that polls briefly
    // right after subscribing sees what is there (the first fetch takes a few hundred ms).
    const fetched = new Promise<void>((r) => {
      const off = this.consumer.on(this.consumer.events.FETCH, () => { if (this.joined) { off(); r(); } });
    });
    if (!this.joined) {
      const joined = new Promise<void>((r) => this.joinWaiters.push(r));
      await withDeadline(joined, Math.max(this.timeoutMs, 30_000), `kafka consumer joining group ${this.options.groupId}`);
    }
    await Promise.race([fetched, new Promise((r) => setTimeout(r, 3000))]);
    await new Promise((r) => setTimeout(r, 50));
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    if (!this.running) throw new MqlabError('ERR_INVALID_ARG', 'kafka consumer must subscribe before poll');
    const deadline = Date.now() + options.timeoutMs;
    while (this.buffer.length === 0 && !this.failure && Date.now() < deadline) {
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))); });
    }
    if (this.failure) throw this.failure;
    const out = this.buffer.splice(0, Math.max(0, options.maxRecords));
    for (const r of out) this.returnedPos.set(tpKey(r.topic, r.partition), { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    this.wake();
    return out;
  }

  async assignment(): Promise<TopicPartition[]> {
    return this.assigned.map((a) => ({ ...a }));
  }

  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    if (!this.running) throw new MqlabError('ERR_INVALID_ARG', 'kafka consumer must subscribe before commit');
    const list = offsets ? [...offsets] : [...this.returnedPos.values()].filter((o) => this.owns(o));
    for (const o of list) {
      if (!this.owns(o)) {
        throw new MqlabError('COMMIT_FAILED', `kafka commit for ${o.topic}-${o.partition} rejected: the partition is not assigned to this member of group ${this.options.groupId} (the group rebalanced)`);
      }
    }
    if (list.length === 0) return;
    try {
      await this.consumer.commitOffsets(list.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
    } catch (e) {
      throw kafkaError(e, `commit in group ${this.options.groupId}`, this.address);
    }
  }

  private owns(tp: TopicPartition): boolean {
    return this.assigned.some((a) => a.topic === tp.topic && a.partition === tp.partition);
  }

  async committed(partitions: readonly TopicPartition[]): Promise<(TopicPartitionOffset | { topic: string; partition: number; offset: null })[]> {
    const topics = [...new Set(partitions.map((p) => p.topic))];
    let res;
    try {
      res = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics });
    } catch (e) {
      throw kafkaError(e, `committed offsets of group ${this.options.groupId}`, this.address);
    }
    return partitions.map((p) => {
      const o = res.find((t) => t.topic === p.topic)?.partitions.find((x) => x.partition === p.partition)?.offset;
      const n = o === undefined ? -1 : Number(o);
      return n >= 0 ? { topic: p.topic, partition: p.partition, offset: n } : { topic: p.topic, partition: p.partition, offset: null };
    });
  }

  async seek(target: TopicPartitionOffset): Promise<void> {
    if (!this.owns(target)) throw new MqlabError('ERR_INVALID_ARG', `kafka seek: ${target.topic}-${target.partition} is not assigned to this consumer`);
    const key = tpKey(target.topic, target.partition);
    this.buffer = this.buffer.filter((r) => tpKey(r.topic, r.partition) !== key);
    this.seekPending.set(key, target.offset);
    this.fetchPos.set(key, target.offset);
    this.consumer.seek({ topic: target.topic, partition: target.partition, offset: String(target.offset) });
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<{ partition: number; offset: number | null }[]> {
    try {
      const [byTime, ends] = await Promise.all([this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp), this.admin.fetchTopicOffsets(topic)]);
      // kafkajs substitutes the end offset where Kafka answered "none" (-1); undo that.
      return byTime.map(({ partition, offset }) => {
        const end = Number(ends.find((e) => e.partition === partition)?.high ?? -1);
        const n = Number(offset);
        return { partition, offset: n < 0 || n >= end ? null : n };
      }).sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw kafkaError(e, `offsets for time in ${topic}`, this.address);
    }
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    await withDeadline(this.consumer.disconnect(), this.timeoutMs, 'kafka consumer close').catch(() => this.client.cut());
  }

  async crash(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = new MqlabError('ERR_CLOSED', 'kafka consumer was crashed by the harness');
    this.client.cut();
    this.wake();
    // kafkajs' own LeaveGroup now fails (no sockets), so the group only notices by session timeout.
    await withDeadline(this.consumer.disconnect(), this.timeoutMs, 'kafka consumer crash').catch(() => undefined);
  }
}

class KafkaAdapter implements LogAdapter {
  readonly info: LogAdapter['info'];
  private readonly producers = new Set<KafkaProducerAdapter>();
  private readonly consumers = new Set<KafkaConsumerAdapter>();
  private clientSeq = 0;

  constructor(private readonly address: BrokerAddress, private readonly admin: Admin, private readonly adminClient: ClientSet, private readonly timeoutMs: number) {
    const capabilities: (LogCapability | CommonCapability)[] = [
      'acks-0', 'acks-1', 'acks-all', 'keyed-partitioning', 'explicit-partition', 'consumer-groups', 'manual-commit',
      'seek', 'offsets-for-times', 'auto-offset-reset', 'retention', 'headers', 'consumer-crash',
    ];
    if (isLocalPeer('kafka', address)) capabilities.push('broker-restart');
    this.info = {
      model: 'kafka',
      name: `kafkajs 2.2.4 -> Apache Kafka at ${address.url}`,
      guarantee: 'at-least-once',
      capabilities,
      timeouts: { connect: 20_000, receive: 15_000, lifecycle: 120_000 },
      // Across a socket on a loaded machine, 150 ms without a delivery is not "drained".
      quietMs: 750,
    };
  }

  /** Stops the peer broker (controlled shutdown) and starts it on the same log dirs. */
  async restartBroker(): Promise<void> {
    await restartPeer('kafka', 120_000);
  }

  async createTopic(topic: string, spec: TopicSpec): Promise<void> {
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) throw new MqlabError('ERR_INVALID_ARG', 'partitions must be a positive integer');
    const configEntries: { name: string; value: string }[] = [];
    if (spec.retentionMs !== undefined) configEntries.push({ name: 'retention.ms', value: String(spec.retentionMs) });
    if (spec.retentionBytes !== undefined) configEntries.push({ name: 'retention.bytes', value: String(spec.retentionBytes) });
    let created: boolean;
    try {
      created = await this.admin.createTopics({ topics: [{ topic, numPartitions: spec.partitions, replicationFactor: 1, configEntries }], waitForLeaders: true, timeout: this.timeoutMs });
    } catch (e) {
      throw kafkaError(e, `create topic ${topic}`, this.address);
    }
    if (!created) throw new MqlabError('TOPIC_ALREADY_EXISTS', `kafka topic ${topic} already exists`);
  }

  async deleteTopic(topic: string): Promise<void> {
    try {
      await this.admin.deleteTopics({ topics: [topic], timeout: this.timeoutMs });
    } catch (e) {
      throw kafkaError(e, `delete topic ${topic}`, this.address);
    }
  }

  async offsets(topic: string): Promise<{ partition: number; start: number; end: number }[]> {
    try {
      const res = await this.admin.fetchTopicOffsets(topic);
      return res.map((r) => ({ partition: r.partition, start: Number(r.low), end: Number(r.high) })).sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw kafkaError(e, `offsets of ${topic}`, this.address);
    }
  }

  async producer(options: ProducerOptions): Promise<LogProducer> {
    const acks = options.acks === 'all' ? -1 : options.acks;
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new MqlabError('ERR_INVALID_ARG', 'acks must be 0, 1 or "all"');
    const client = makeClient(this.address, options.clientId ?? `mqlab-producer-${++this.clientSeq}`, this.timeoutMs, 3);
    const producer = client.kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 3 } });
    try {
      await withDeadline(producer.connect(), this.timeoutMs, 'kafka producer connect');
    } catch (e) {
      client.cut();
      throw brokerUnreachable('Kafka', this.address, e);
    }
    const p = new KafkaProducerAdapter(producer, this.admin, acks, this.address);
    this.producers.add(p);
    return p;
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    const client = makeClient(this.address, options.clientId ?? `mqlab-consumer-${++this.clientSeq}`, this.timeoutMs, 3);
    const c = new KafkaConsumerAdapter(client, this.admin, options, this.timeoutMs, this.address);
    this.consumers.add(c);
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.close().catch(() => undefined)));
    await Promise.all([...this.producers].map((p) => p.close()));
    await this.admin.disconnect().catch(() => undefined);
    this.adminClient.cut();
  }
}

export async function createAdapter(options: AdapterOptions): Promise<LogAdapter> {
  const address = parseBrokerUrl(options.url, ['kafka'], 9092);
  const timeoutMs = Number(options.params?.requestTimeoutMs ?? 8000);
  const client = makeClient(address, 'mqlab-admin', timeoutMs, Number(options.params?.connectRetries ?? 1));
  const admin = client.kafka.admin();
  try {
    await withDeadline(admin.connect(), timeoutMs, `connecting to Kafka at ${address.url}`);
    await withDeadline(admin.describeCluster(), timeoutMs, `metadata from Kafka at ${address.url}`);
  } catch (e) {
    client.cut();
    await admin.disconnect().catch(() => undefined);
    throw brokerUnreachable('Kafka', address, e);
  }
  return new KafkaAdapter(address, admin, client, timeoutMs);
}
