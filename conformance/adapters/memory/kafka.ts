/**
 * A complete, small in-memory log-model adapter: the example to copy when writing an adapter
 * for your own MQ (see docs/adapters.md). Everything lives in this process, in plain arrays.
 *
 * What it implements, and how simply:
 *  - topics with N partitions; a partition is an array of records plus the offset of its first
 *    record (`start`, which retention moves forward);
 *  - keyed partitioning (FNV-1a hash of the key), round-robin without a key;
 *  - consumer groups with round-robin assignment, rebalanced at once on every join, leave or
 *    crash (a crash skips nothing but the goodbye: it does not commit);
 *  - committed offsets per group (the next offset to read), seek, offsets by time;
 *  - a virtual clock (`advanceTime`) that drives time-based retention.
 * It claims at-least-once: records after the last commit are read again after a crash.
 * `createAdapter` adds worker-thread support (kafka-threads.ts), which a copy may leave out.
 */
import { MqlabError } from '../../../core/errors';
import type { AdapterInfo, AdapterOptions, WorkerSpec } from '../common';
import { logWorkerSpec } from './kafka-threads';
import type { ConsumedRecord, ConsumerOptions, LogAdapter, LogCapability, LogConsumer, LogProducer, PollOptions, ProduceRecord, ProduceResult, ProducerOptions, TopicPartition, TopicPartitionOffset, TopicSpec } from '../log-model';

interface StoredRecord {
  id: string;
  key: string | null;
  value: ConsumedRecord['value'];
  headers: Readonly<Record<string, string>>;
  timestamp: number;
}

interface Partition {
  start: number;
  records: StoredRecord[];
}

interface Topic {
  spec: TopicSpec;
  partitions: Partition[];
  roundRobin: number;
}

interface Group {
  members: MemoryLogConsumer[];
  generation: number;
  committed: Map<string, number>;
}

const tpKey = (topic: string, partition: number) => `${topic}/${partition}`;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function kafkaError(code: string, message: string): MqlabError {
  return new MqlabError(code, message);
}

/** The engine: topics, groups, a clock, and waiters woken by appends. */
export class MemoryLog {
  readonly topics = new Map<string, Topic>();
  readonly groups = new Map<string, Group>();
  private clockOffset = 0;
  private waiters: (() => void)[] = [];

  now(): number {
    return Date.now() + this.clockOffset;
  }

  advance(ms: number): void {
    this.clockOffset += ms;
    this.applyRetention();
  }

  topic(name: string): Topic {
    const t = this.topics.get(name);
    if (!t) throw kafkaError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`);
    return t;
  }

  partition(topic: string, partition: number): Partition {
    const p = this.topic(topic).partitions[partition];
    if (!p) throw kafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partition ${partition}`);
    return p;
  }

  append(topic: string, r: ProduceRecord): ProduceResult {
    const t = this.topic(topic);
    let partition: number;
    if (r.partition !== undefined) partition = r.partition;
    else if (r.key != null) partition = fnv1a(r.key) % t.partitions.length;
    else partition = t.roundRobin++ % t.partitions.length;
    const p = this.partition(topic, partition);
    const timestamp = r.timestamp ?? this.now();
    p.records.push({ id: r.id, key: r.key ?? null, value: r.value ?? null, headers: r.headers ?? {}, timestamp });
    return { id: r.id, topic, partition, offset: p.start + p.records.length - 1, timestamp };
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves on the next append (or after `ms`). */
  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private applyRetention(): void {
    const now = this.now();
    for (const t of this.topics.values()) {
      if (t.spec.retentionMs === undefined) continue;
      for (const p of t.partitions) {
        let drop = 0;
        while (drop < p.records.length && p.records[drop]!.timestamp < now - t.spec.retentionMs) drop++;
        if (drop > 0) {
          p.records.splice(0, drop);
          p.start += drop;
        }
      }
    }
  }

  group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) this.groups.set(id, (g = { members: [], generation: 0, committed: new Map() }));
    return g;
  }

  /** Round-robin assignment of every subscribed partition over the members, sorted by name. */
  rebalance(groupId: string): void {
    const g = this.group(groupId);
    g.generation++;
    const members = [...g.members].sort((a, b) => a.memberId.localeCompare(b.memberId));
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    const all: TopicPartition[] = [];
    for (const t of topics) {
      const topic = this.topics.get(t);
      if (topic) for (let p = 0; p < topic.partitions.length; p++) all.push({ topic: t, partition: p });
    }
    const next = new Map<MemoryLogConsumer, TopicPartition[]>(members.map((m) => [m, []]));
    all.forEach((tp, i) => {
      const eligible = members.filter((m) => m.topics.includes(tp.topic));
      if (eligible.length > 0) next.get(eligible[i % eligible.length]!)!.push(tp);
    });
    for (const [m, tps] of next) m.assign(tps, g.generation);
  }
}

class MemoryLogProducer implements LogProducer {
  private closed = false;
  constructor(private readonly log: MemoryLog) {}

  async send(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    if (this.closed) throw new MqlabError('ERR_CLOSED', 'producer is closed');
    const out = records.map((r) => this.log.append(topic, r));
    this.log.wake();
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

let memberCounter = 0;

export class MemoryLogConsumer implements LogConsumer {
  readonly memberId: string;
  topics: string[] = [];
  private assigned: TopicPartition[] = [];
  private generation = -1;
  private readonly positions = new Map<string, number>();
  private closed = false;
  private cursor = 0;

  constructor(private readonly log: MemoryLog, private readonly options: ConsumerOptions) {
    this.memberId = `${options.clientId ?? 'consumer'}-${++memberCounter}`;
  }

  private get group(): Group {
    return this.log.group(this.options.groupId);
  }

  private alive(): void {
    if (this.closed) throw new MqlabError('ERR_CLOSED', 'consumer is closed');
  }

  /** Called by the rebalance: keep positions of partitions we keep, fetch the rest from commits. */
  assign(tps: TopicPartition[], generation: number): void {
    const keep = new Set(tps.map((tp) => tpKey(tp.topic, tp.partition)));
    for (const k of [...this.positions.keys()]) if (!keep.has(k)) this.positions.delete(k);
    this.assigned = tps;
    this.generation = generation;
  }

  private position(tp: TopicPartition): number {
    const k = tpKey(tp.topic, tp.partition);
    const p = this.log.partition(tp.topic, tp.partition);
    let pos = this.positions.get(k);
    if (pos === undefined) {
      const committed = this.group.committed.get(k);
      if (committed !== undefined) pos = committed;
      else pos = this.reset(p, k);
    }
    if (pos < p.start) pos = this.reset(p, k);
    this.positions.set(k, pos);
    return pos;
  }

  private reset(p: Partition, k: string): number {
    const policy = this.options.autoOffsetReset ?? 'latest';
    if (policy === 'none') throw kafkaError('OFFSET_OUT_OF_RANGE', `no committed offset for ${k} and auto.offset.reset is none`);
    return policy === 'earliest' ? p.start : p.start + p.records.length;
  }

  async subscribe(topics: readonly string[]): Promise<void> {
    this.alive();
    for (const t of topics) this.log.topic(t);
    this.topics = [...topics];
    if (!this.group.members.includes(this)) this.group.members.push(this);
    this.log.rebalance(this.options.groupId);
  }

  private fetch(max: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    const n = this.assigned.length;
    for (let i = 0; i < n && out.length < max; i++) {
      const tp = this.assigned[(this.cursor + i) % n]!;
      const p = this.log.partition(tp.topic, tp.partition);
      let pos = this.position(tp);
      while (out.length < max && pos < p.start + p.records.length) {
        const r = p.records[pos - p.start]!;
        out.push({ id: r.id, topic: tp.topic, partition: tp.partition, offset: pos, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
        pos++;
      }
      this.positions.set(tpKey(tp.topic, tp.partition), pos);
    }
    this.cursor++;
    return out;
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    this.alive();
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const rs = this.fetch(options.maxRecords);
      const left = deadline - Date.now();
      if (rs.length > 0 || left <= 0) return rs;
      await this.log.waitForData(left);
      this.alive();
    }
  }

  async assignment(): Promise<TopicPartition[]> {
    return [...this.assigned];
  }

  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    this.alive();
    const list = offsets ?? this.assigned.map((tp) => ({ ...tp, offset: this.position(tp) }));
    for (const o of list) {
      if (!this.assigned.some((tp) => tp.topic === o.topic && tp.partition === o.partition)) {
        throw kafkaError('ILLEGAL_GENERATION', `member ${this.memberId} does not own ${tpKey(o.topic, o.partition)} in generation ${this.generation}`);
      }
      this.group.committed.set(tpKey(o.topic, o.partition), o.offset);
    }
  }

  async committed(partitions: readonly TopicPartition[]): Promise<{ topic: string; partition: number; offset: number | null }[]> {
    return partitions.map((tp) => ({ ...tp, offset: this.group.committed.get(tpKey(tp.topic, tp.partition)) ?? null }));
  }

  async seek(target: TopicPartitionOffset): Promise<void> {
    this.alive();
    const p = this.log.partition(target.topic, target.partition);
    if (!Number.isInteger(target.offset) || target.offset < 0 || target.offset > p.start + p.records.length) {
      throw kafkaError('OFFSET_OUT_OF_RANGE', `offset ${target.offset} is outside ${p.start}..${p.start + p.records.length}`);
    }
    this.positions.set(tpKey(target.topic, target.partition), target.offset);
  }

  async offsetsForTime(topic: string, timestamp: number): Promise<{ partition: number; offset: number | null }[]> {
    return this.log.topic(topic).partitions.map((p, partition) => {
      const i = p.records.findIndex((r) => r.timestamp >= timestamp);
      return { partition, offset: i < 0 ? null : p.start + i };
    });
  }

  private leave(): void {
    if (this.closed) return;
    this.closed = true;
    const g = this.group;
    g.members = g.members.filter((m) => m !== this);
    this.log.rebalance(this.options.groupId);
    this.log.wake();
  }

  async close(): Promise<void> {
    this.leave();
  }

  async crash(): Promise<void> {
    this.leave();
  }
}

const CAPABILITIES: readonly LogCapability[] = ['acks-0', 'acks-1', 'acks-all', 'keyed-partitioning', 'explicit-partition', 'consumer-groups', 'manual-commit', 'seek', 'offsets-for-times', 'auto-offset-reset', 'retention', 'headers'];

export class MemoryLogAdapter implements LogAdapter {
  readonly info: AdapterInfo<'kafka', LogCapability> = {
    model: 'kafka',
    name: 'in-memory example log adapter',
    guarantee: 'at-least-once',
    capabilities: [...CAPABILITIES, 'consumer-crash', 'virtual-time'],
  };
  readonly log = new MemoryLog();

  async createTopic(topic: string, spec: TopicSpec): Promise<void> {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw kafkaError('INVALID_TOPIC_EXCEPTION', `invalid topic name ${JSON.stringify(topic)}`);
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) throw kafkaError('INVALID_PARTITIONS', 'partitions must be a positive integer');
    if (this.log.topics.has(topic)) throw kafkaError('TOPIC_ALREADY_EXISTS', `topic ${topic} exists`);
    this.log.topics.set(topic, { spec, partitions: Array.from({ length: spec.partitions }, () => ({ start: 0, records: [] })), roundRobin: 0 });
  }

  async deleteTopic(topic: string): Promise<void> {
    this.log.topic(topic);
    this.log.topics.delete(topic);
  }

  async offsets(topic: string): Promise<{ partition: number; start: number; end: number }[]> {
    return this.log.topic(topic).partitions.map((p, partition) => ({ partition, start: p.start, end: p.start + p.records.length }));
  }

  async producer(_options: ProducerOptions): Promise<LogProducer> {
    return new MemoryLogProducer(this.log);
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    return new MemoryLogConsumer(this.log, options);
  }

  async advanceTime(ms: number): Promise<void> {
    this.log.advance(ms);
  }

  async close(): Promise<void> {
    this.log.wake();
  }
}

/** The adapter the harness loads: the example plus producers and consumers on worker threads. */
class ThreadedMemoryLogAdapter extends MemoryLogAdapter {
  override readonly info: AdapterInfo<'kafka', LogCapability> = {
    model: 'kafka',
    name: 'in-memory example log adapter',
    guarantee: 'at-least-once',
    capabilities: [...CAPABILITIES, 'consumer-crash', 'virtual-time', 'worker-threads'],
  };
  private readonly servers: { close(): void }[] = [];

  async workerSpec(): Promise<WorkerSpec> {
    return logWorkerSpec(this, this.servers);
  }

  override async close(): Promise<void> {
    for (const s of this.servers) s.close();
    await super.close();
  }
}

export function createAdapter(_options: AdapterOptions): LogAdapter {
  return new ThreadedMemoryLogAdapter();
}
