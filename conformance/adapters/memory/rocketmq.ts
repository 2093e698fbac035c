/**
 * A complete, small in-memory broker-model adapter (RocketMQ semantics): the example to copy for
 * your own broker (see docs/adapters.md).
 *
 *  - a nameserver route table over two brokers; a topic gets N queues on each;
 *  - one CommitLog (array) per broker for all topics, a ConsumeQueue (array of CommitLog
 *    positions) per (topic, queue); msgId = broker + CommitLog position;
 *  - producers pick queues round-robin, by sharding key (hash) or explicitly;
 *  - CLUSTERING groups: queues allocated evenly over the members sorted by name, re-allocated
 *    on every start, shutdown and crash; consume offsets kept by the broker per (group, queue):
 *    the lowest message still being processed, so unsettled messages are redelivered after a
 *    crash. BROADCASTING: every instance reads every queue, offsets kept per instance name;
 *  - tag filtering (`*`, `A || B`): non-matching messages are skipped, offsets still advance;
 *  - RECONSUME_LATER: the message goes to `%RETRY%<group>` with reconsumeTimes + 1 after delay
 *    level 3 + reconsumeTimes; past maxReconsumeTimes to `%DLQ%<group>`;
 *  - orderly consumers get one message of a queue at a time; their RECONSUME_LATER suspends the
 *    queue and hands the same message out again (reconsumeTimes + 1) before any later one;
 *  - delay levels and all timing on a virtual clock (`advanceTime`).
 */
import { MqlabError } from '../../../core/errors';
import type { AdapterInfo, AdapterOptions, WorkerSpec } from '../common';
import { brokerWorkerSpec } from './rocketmq-threads';
import {
  DELAY_LEVELS_MS,
  type BrokerAdapter,
  type BrokerCapability,
  type BrokerConsumer,
  type BrokerConsumerOptions,
  type BrokerProducer,
  type BrokerTopicSpec,
  type ConsumeStatus,
  type OutgoingMessage,
  type QueueRef,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendOptions,
  type SendResult,
  type TopicRoute,
} from '../broker-model';

const BROKERS = ['broker-a', 'broker-b'];

interface Stored {
  id: string;
  topic: string;
  /** The topic the sender used (differs for retry / DLQ copies). */
  originTopic: string;
  tags: string | null;
  keys: readonly string[];
  body: ReceivedMessage['body'];
  properties: Readonly<Record<string, string>>;
  reconsumeTimes: number;
  bornTimestamp: number;
  storeTimestamp: number;
  broker: string;
  queueId: number;
  queueOffset: number;
  msgId: string;
}

interface Delayed {
  at: number;
  message: Omit<Stored, 'storeTimestamp' | 'queueOffset' | 'msgId' | 'broker' | 'queueId'>;
  queue: QueueRef;
}

const qkey = (topic: string, q: QueueRef) => `${topic}/${q.broker}/${q.queueId}`;

function rmqError(code: string, message: string): MqlabError {
  return new MqlabError(code, message);
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class MemoryRocketBroker {
  readonly commitLogs = new Map<string, Stored[]>(BROKERS.map((b) => [b, []]));
  readonly consumeQueues = new Map<string, number[]>();
  readonly topics = new Map<string, QueueRef[]>();
  /** group/queue (clustering) or group@instance/queue (broadcasting) -> next offset to consume. */
  readonly offsets = new Map<string, number>();
  readonly groups = new Map<string, MemoryRocketConsumer[]>();
  private delayed: Delayed[] = [];
  private clockOffset = 0;

  now(): number {
    return Date.now() + this.clockOffset;
  }

  advance(ms: number): void {
    this.clockOffset += ms;
    this.releaseDue();
  }

  createTopic(topic: string, queues: number, brokers: readonly string[] = BROKERS): void {
    const refs: QueueRef[] = [];
    for (const broker of brokers) {
      if (!this.commitLogs.has(broker)) throw rmqError('BROKER_NOT_FOUND', `no broker ${broker}`);
      for (let queueId = 0; queueId < queues; queueId++) {
        refs.push({ broker, queueId });
        if (!this.consumeQueues.has(qkey(topic, { broker, queueId }))) this.consumeQueues.set(qkey(topic, { broker, queueId }), []);
      }
    }
    this.topics.set(topic, refs);
  }

  queuesOf(topic: string): QueueRef[] {
    const q = this.topics.get(topic);
    if (!q) throw rmqError('TOPIC_NOT_EXIST', `no route info of topic ${topic}`);
    return q;
  }

  ensureTopic(topic: string): QueueRef[] {
    if (!this.topics.has(topic)) this.createTopic(topic, 1, [BROKERS[0]!]);
    return this.queuesOf(topic);
  }

  store(m: Delayed['message'], topic: string, queue: QueueRef): Stored {
    const log = this.commitLogs.get(queue.broker)!;
    const cq = this.consumeQueues.get(qkey(topic, queue))!;
    const s: Stored = { ...m, topic, storeTimestamp: this.now(), broker: queue.broker, queueId: queue.queueId, queueOffset: cq.length, msgId: `${queue.broker}-${log.length.toString(16).padStart(16, '0')}` };
    log.push(s);
    cq.push(log.length - 1);
    return s;
  }

  schedule(m: Delayed['message'], queue: QueueRef, level: number): void {
    const ms = DELAY_LEVELS_MS[Math.min(level, DELAY_LEVELS_MS.length) - 1]!;
    this.delayed.push({ at: this.now() + ms, message: m, queue });
  }

  releaseDue(): void {
    const now = this.now();
    const due = this.delayed.filter((d) => d.at <= now);
    if (due.length === 0) return;
    this.delayed = this.delayed.filter((d) => d.at > now);
    for (const d of due) this.store(d.message, d.message.topic, d.queue);
  }

  entry(topic: string, q: QueueRef, offset: number): Stored | undefined {
    const cq = this.consumeQueues.get(qkey(topic, q));
    const pos = cq?.[offset];
    return pos === undefined ? undefined : this.commitLogs.get(q.broker)![pos];
  }

  maxOffset(topic: string, q: QueueRef): number {
    return this.consumeQueues.get(qkey(topic, q))?.length ?? 0;
  }

  /** Even allocation of every subscribed queue over the group's started members. */
  rebalance(group: string): void {
    const members = (this.groups.get(group) ?? []).filter((m) => m.started && m.options.model === 'CLUSTERING');
    members.sort((a, b) => a.memberId.localeCompare(b.memberId));
    const topics = [...new Set(members.flatMap((m) => [...m.subscriptions.keys()]))].sort();
    for (const m of members) m.allocated = [];
    for (const topic of topics) {
      const queues = this.topics.get(topic) ?? [];
      const eligible = members.filter((m) => m.subscriptions.has(topic));
      queues.forEach((q, i) => {
        if (eligible.length > 0) eligible[Math.floor((i * eligible.length) / queues.length)]!.allocated.push({ topic, q });
      });
    }
    for (const m of members) m.onAllocated();
  }
}

class MemoryRocketProducer implements BrokerProducer {
  private next = 0;
  constructor(private readonly broker: MemoryRocketBroker) {}

  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendResult> {
    if (message.body !== undefined && message.body.length > 4 * 1024 * 1024) throw rmqError('MESSAGE_ILLEGAL', 'message body larger than 4 MiB');
    const queues = this.broker.queuesOf(message.topic);
    const queue = options.queue ?? (options.shardingKey !== undefined ? queues[hash(options.shardingKey) % queues.length]! : queues[this.next++ % queues.length]!);
    const m: Delayed['message'] = { id: message.id, topic: message.topic, originTopic: message.topic, tags: message.tags ?? null, keys: message.keys ?? [], body: message.body ?? null, properties: message.properties ?? {}, reconsumeTimes: 0, bornTimestamp: this.broker.now() };
    if (message.delayLevel) {
      this.broker.schedule(m, queue, message.delayLevel);
      return { id: message.id, status: 'SEND_OK', msgId: `delayed-${message.id}`, broker: queue.broker, queueId: queue.queueId, queueOffset: -1 };
    }
    const s = this.broker.store(m, message.topic, queue);
    return { id: message.id, status: 'SEND_OK', msgId: s.msgId, broker: s.broker, queueId: s.queueId, queueOffset: s.queueOffset };
  }

  async close(): Promise<void> {}
}

let memberCounter = 0;

interface QueueState {
  topic: string;
  q: QueueRef;
  /** Next offset to fetch. */
  pull: number;
  /** Offsets handed out and not settled yet. */
  inFlight: Set<number>;
  /** Orderly consumption: offsets to hand out again first, with their reconsume count. */
  redo: Map<number, number>;
}

function toReceived(s: Stored, topic: string): ReceivedMessage {
  return { id: s.id, msgId: s.msgId, topic, tags: s.tags, keys: s.keys, body: s.body, properties: s.properties, broker: s.broker, queueId: s.queueId, queueOffset: s.queueOffset, reconsumeTimes: s.reconsumeTimes, bornTimestamp: s.bornTimestamp, storeTimestamp: s.storeTimestamp };
}

export class MemoryRocketConsumer implements BrokerConsumer {
  readonly memberId: string;
  readonly subscriptions = new Map<string, Set<string> | null>();
  started = false;
  allocated: { topic: string; q: QueueRef }[] = [];
  private states = new Map<string, QueueState>();
  private dead = false;
  private cursor = 0;

  constructor(private readonly broker: MemoryRocketBroker, readonly options: BrokerConsumerOptions) {
    this.memberId = `${options.instanceName}-${++memberCounter}`;
  }

  private get retryTopic(): string {
    return `%RETRY%${this.options.group}`;
  }

  private offsetKey(topic: string, q: QueueRef): string {
    const owner = this.options.model === 'BROADCASTING' ? `${this.options.group}@${this.options.instanceName}` : this.options.group;
    return `${owner}|${qkey(topic, q)}`;
  }

  private alive(): void {
    if (this.dead) throw new MqlabError('ERR_CLOSED', 'consumer is shut down');
  }

  async subscribe(topic: string, expression: string): Promise<void> {
    this.alive();
    this.broker.queuesOf(topic);
    const e = expression.trim();
    if (e === '') throw rmqError('SUBSCRIPTION_PARSE_FAILED', 'empty subscription expression');
    const tags = e === '*' ? null : new Set(e.split('||').map((t) => t.trim()));
    if (tags && [...tags].some((t) => t === '')) throw rmqError('SUBSCRIPTION_PARSE_FAILED', `malformed subscription expression ${JSON.stringify(expression)}`);
    this.subscriptions.set(topic, tags);
  }

  async start(): Promise<void> {
    this.alive();
    if (this.options.model === 'CLUSTERING') {
      this.broker.ensureTopic(this.retryTopic);
      this.subscriptions.set(this.retryTopic, null);
    }
    this.started = true;
    const members = this.broker.groups.get(this.options.group) ?? [];
    members.push(this);
    this.broker.groups.set(this.options.group, members);
    if (this.options.model === 'CLUSTERING') this.broker.rebalance(this.options.group);
    else {
      this.allocated = [...this.subscriptions.keys()].flatMap((topic) => this.broker.queuesOf(topic).map((q) => ({ topic, q })));
      this.onAllocated();
    }
  }

  /** Keeps state for queues still ours; starts new ones at the stored offset (or consume-from). */
  onAllocated(): void {
    const next = new Map<string, QueueState>();
    for (const { topic, q } of this.allocated) {
      const k = qkey(topic, q);
      const old = this.states.get(k);
      if (old) {
        next.set(k, old);
        continue;
      }
      let start = this.broker.offsets.get(this.offsetKey(topic, q));
      if (start === undefined) start = this.initialOffset(topic, q);
      next.set(k, { topic, q, pull: start, inFlight: new Set(), redo: new Map() });
    }
    this.states = next;
  }

  private initialOffset(topic: string, q: QueueRef): number {
    if (topic.startsWith('%RETRY%')) return 0;
    const from = this.options.consumeFrom ?? { from: 'last' };
    if (from.from === 'first') return 0;
    if (from.from === 'last') return this.broker.maxOffset(topic, q);
    const n = this.broker.maxOffset(topic, q);
    for (let o = 0; o < n; o++) if (this.broker.entry(topic, q, o)!.storeTimestamp >= from.timestamp) return o;
    return n;
  }

  private persist(st: QueueState): void {
    const low = Math.min(st.pull, ...st.inFlight, ...st.redo.keys());
    this.broker.offsets.set(this.offsetKey(st.topic, st.q), low);
  }

  private fetch(max: number): ReceivedMessage[] {
    this.broker.releaseDue();
    const out: ReceivedMessage[] = [];
    const states = [...this.states.values()];
    for (let i = 0; i < states.length && out.length < max; i++) {
      const st = states[(this.cursor + i) % states.length]!;
      const filter = this.subscriptions.get(st.topic) ?? null;
      const end = this.broker.maxOffset(st.topic, st.q);
      if (this.options.orderly) {
        // One message of a queue in flight at a time; a suspended one goes first.
        if (st.inFlight.size > 0) continue;
        const [again, times] = st.redo.entries().next().value ?? [];
        if (again !== undefined) {
          st.redo.delete(again);
          st.inFlight.add(again);
          out.push({ ...toReceived(this.broker.entry(st.topic, st.q, again)!, st.topic), reconsumeTimes: times! });
          continue;
        }
      }
      while (out.length < max && st.pull < end && !(this.options.orderly && st.inFlight.size > 0)) {
        const s = this.broker.entry(st.topic, st.q, st.pull)!;
        const offset = st.pull++;
        if (filter && !(s.tags !== null && filter.has(s.tags))) continue;
        st.inFlight.add(offset);
        out.push(toReceived(s, s.originTopic));
      }
      this.persist(st);
    }
    this.cursor++;
    return out;
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    this.alive();
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const ms = this.fetch(options.maxMessages);
      if (ms.length > 0 || Date.now() >= deadline) return ms;
      await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, deadline - Date.now()))));
      this.alive();
    }
  }

  async settle(message: ReceivedMessage, status: ConsumeStatus): Promise<void> {
    this.alive();
    // Orderly retries happen in place; concurrent ones come from the retry topic.
    const topic = message.reconsumeTimes > 0 && !this.options.orderly ? this.retryTopic : message.topic;
    const st = this.states.get(qkey(topic, { broker: message.broker, queueId: message.queueId }));
    // A queue re-allocated away meanwhile: its new owner will deliver the message again.
    if (!st || !st.inFlight.has(message.queueOffset)) return;
    if (status === 'RECONSUME_LATER' && this.options.orderly && message.reconsumeTimes < (this.options.maxReconsumeTimes ?? 16)) {
      st.inFlight.delete(message.queueOffset);
      st.redo.set(message.queueOffset, message.reconsumeTimes + 1);
      this.persist(st);
      return;
    }
    if (status === 'RECONSUME_LATER' && this.options.model === 'CLUSTERING') {
      const max = this.options.maxReconsumeTimes ?? 16;
      const stored = this.broker.entry(topic, st.q, message.queueOffset)!;
      const copy = { ...stored, reconsumeTimes: message.reconsumeTimes + 1 };
      if (message.reconsumeTimes >= max) {
        const dlq = `%DLQ%${this.options.group}`;
        this.broker.ensureTopic(dlq);
        this.broker.store({ ...copy, reconsumeTimes: message.reconsumeTimes }, dlq, this.broker.queuesOf(dlq)[0]!);
      } else {
        this.broker.schedule({ ...copy, topic: this.retryTopic }, this.broker.queuesOf(this.retryTopic)[0]!, 3 + message.reconsumeTimes);
      }
    }
    st.inFlight.delete(message.queueOffset);
    this.persist(st);
  }

  private leave(): void {
    if (this.dead) return;
    this.dead = true;
    this.started = false;
    const members = (this.broker.groups.get(this.options.group) ?? []).filter((m) => m !== this);
    this.broker.groups.set(this.options.group, members);
    if (this.options.model === 'CLUSTERING') this.broker.rebalance(this.options.group);
  }

  async shutdown(): Promise<void> {
    this.leave();
  }

  async crash(): Promise<void> {
    this.leave();
  }
}

const CAPABILITIES: readonly BrokerCapability[] = ['tags', 'keys', 'query-by-id', 'ordered-selector', 'clustering', 'broadcasting', 'retry', 'dead-letter', 'delay-level', 'consume-from'];

export class MemoryRocketAdapter implements BrokerAdapter {
  readonly info: AdapterInfo<'rocketmq', BrokerCapability> = {
    model: 'rocketmq',
    name: 'in-memory example broker adapter',
    guarantee: 'at-least-once',
    capabilities: [...CAPABILITIES, 'consumer-crash', 'virtual-time'],
  };
  readonly broker = new MemoryRocketBroker();

  async createTopic(topic: string, spec: BrokerTopicSpec): Promise<void> {
    if (!/^[%|A-Za-z0-9_-]{1,127}$/.test(topic)) throw rmqError('TOPIC_NAME_ILLEGAL', `illegal topic name ${JSON.stringify(topic)}`);
    if (!Number.isInteger(spec.queues) || spec.queues < 1) throw rmqError('ERR_INVALID_ARG', 'queues must be a positive integer');
    this.broker.createTopic(topic, spec.queues, spec.brokers);
  }

  async route(topic: string): Promise<TopicRoute> {
    const queues = this.broker.queuesOf(topic);
    const brokers = [...new Set(queues.map((q) => q.broker))].map((name) => ({ name, address: `memory://${name}` }));
    return { topic, brokers, queues: [...queues] };
  }

  async producer(_options: { group: string }): Promise<BrokerProducer> {
    return new MemoryRocketProducer(this.broker);
  }

  async consumer(options: BrokerConsumerOptions): Promise<BrokerConsumer> {
    return new MemoryRocketConsumer(this.broker, options);
  }

  async queryById(topic: string, msgId: string): Promise<ReceivedMessage | null> {
    const m = /^(.+)-([0-9a-f]{16})$/.exec(msgId);
    const s = m ? this.broker.commitLogs.get(m[1]!)?.[parseInt(m[2]!, 16)] : undefined;
    return s && s.originTopic === topic ? toReceived(s, s.originTopic) : null;
  }

  async queryByKey(topic: string, key: string): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    for (const log of this.broker.commitLogs.values()) for (const s of log) if (s.topic === topic && s.keys.includes(key)) out.push(toReceived(s, s.originTopic));
    return out;
  }

  async advanceTime(ms: number): Promise<void> {
    this.broker.advance(ms);
  }

  async close(): Promise<void> {}
}

/** The adapter the harness loads: the example plus producers and consumers on worker threads. */
class ThreadedMemoryRocketAdapter extends MemoryRocketAdapter {
  override readonly info: AdapterInfo<'rocketmq', BrokerCapability> = {
    model: 'rocketmq',
    name: 'in-memory example broker adapter',
    guarantee: 'at-least-once',
    capabilities: [...CAPABILITIES, 'consumer-crash', 'virtual-time', 'worker-threads'],
  };
  private readonly servers: { close(): void }[] = [];

  async workerSpec(): Promise<WorkerSpec> {
    return brokerWorkerSpec(this, this.servers);
  }

  override async close(): Promise<void> {
    for (const s of this.servers) s.close();
    await super.close();
  }
}

export function createAdapter(_options: AdapterOptions): BrokerAdapter {
  return new ThreadedMemoryRocketAdapter();
}
