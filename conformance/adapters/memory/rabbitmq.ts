/**
 * A complete, small in-memory queue-model adapter (AMQP 0-9-1 semantics): the example to copy
 * for your own queue (see docs/adapters.md).
 *
 *  - exchanges direct / fanout / topic (`*` one word, `#` zero or more) / headers (x-match
 *    all | any), and the default exchange '' that routes to the queue named by the routing key;
 *  - queues keep ready messages in publish order; requeued messages go back to their place;
 *  - push consumers are served round-robin, bounded by the channel's prefetch; pull with `get`;
 *  - ack / nack / reject (single and multiple), requeue sets `redelivered` and counts
 *    deliveries; past `deliveryLimit` a message is dead-lettered (or dropped without a DLX);
 *  - per-queue and per-message TTL on a virtual clock, x-max-length (drop head), dead-letter
 *    exchanges with x-death;
 *  - closing or crashing a channel requeues its unacked deliveries;
 *  - `restartBroker` keeps durable queues with their persistent messages, drops the rest.
 */
import { MqlabError } from '../../../core/errors';
import type { AdapterInfo, AdapterOptions, WorkerSpec } from '../common';
import { queueWorkerSpec } from './rabbitmq-threads';
import type { ChannelOptions, ConsumeOptions, ExchangeOptions, ExchangeType, PublishMessage, PublishOptions, PublishResult, QueueAdapter, QueueArguments, QueueCapability, QueueChannel, QueueDelivery } from '../queue-model';

type Args = Readonly<Record<string, string | number | boolean>>;

interface Message {
  seq: number;
  id: string;
  body: NonNullable<PublishMessage["body"]> | null;
  headers: Record<string, unknown>;
  persistent: boolean;
  exchange: string;
  routingKey: string;
  expiresAt: number;
  deliveryCount: number;
  redelivered: boolean;
  death: NonNullable<QueueDelivery['death']>;
}

interface Consumer {
  tag: string;
  channel: MemoryChannel;
  noAck: boolean;
  onDelivery: (d: QueueDelivery) => void;
  unacked: number;
}

interface Queue {
  name: string;
  args: QueueArguments;
  ready: Message[];
  consumers: Consumer[];
  next: number;
}

interface Exchange {
  type: ExchangeType;
  durable: boolean;
  bindings: { queue: string; routingKey: string; args: Args }[];
}

function amqpError(replyCode: number, replyText: string, message: string): MqlabError {
  return new MqlabError(replyText, message, { replyCode, replyText });
}

/** Topic pattern match: words split on '.', `*` = exactly one word, `#` = zero or more. */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return match(i + 1, j) || (j < k.length && match(i, j + 1));
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

function headersMatch(args: Args, headers: Record<string, unknown>): boolean {
  const entries = Object.entries(args).filter(([k]) => !k.startsWith('x-'));
  const any = args['x-match'] === 'any';
  const ok = (k: string, v: unknown) => headers[k] === v;
  return any ? entries.some(([k, v]) => ok(k, v)) : entries.every(([k, v]) => ok(k, v));
}

export class MemoryQueueBroker {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  channels = new Set<MemoryChannel>();
  private seq = 0;
  private clockOffset = 0;

  now(): number {
    return Date.now() + this.clockOffset;
  }

  advance(ms: number): void {
    this.clockOffset += ms;
    for (const q of this.queues.values()) this.dispatch(q);
  }

  queue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw amqpError(404, 'NOT_FOUND', `no queue '${name}'`);
    return q;
  }

  route(exchange: string, routingKey: string, headers: Record<string, unknown>): Set<string> {
    if (exchange === '') return new Set(this.queues.has(routingKey) ? [routingKey] : []);
    const ex = this.exchanges.get(exchange);
    if (!ex) throw amqpError(404, 'NOT_FOUND', `no exchange '${exchange}'`);
    const out = new Set<string>();
    for (const b of ex.bindings) {
      const hit = ex.type === 'fanout' || (ex.type === 'direct' && b.routingKey === routingKey) || (ex.type === 'topic' && topicMatches(b.routingKey, routingKey)) || (ex.type === 'headers' && headersMatch(b.args, headers));
      if (hit) out.add(b.queue);
    }
    return out;
  }

  /** Puts a copy of the message in each queue; returns how many queues got it. */
  publish(exchange: string, routingKey: string, m: PublishMessage): number {
    const headers: Record<string, unknown> = { ...m.headers };
    const queues = this.route(exchange, routingKey, headers);
    for (const name of queues) {
      const q = this.queue(name);
      const ttl = Math.min(m.expirationMs ?? Infinity, q.args.messageTtlMs ?? Infinity);
      this.enqueue(q, { seq: ++this.seq, id: m.id, body: m.body ?? null, headers, persistent: m.persistent === true, exchange, routingKey, expiresAt: this.now() + ttl, deliveryCount: 0, redelivered: false, death: [] });
    }
    return queues.size;
  }

  private enqueue(q: Queue, msg: Message): void {
    q.ready.push(msg);
    // x-max-length: drop (or dead-letter) from the head, as RabbitMQ's default overflow does.
    while (q.args.maxLength !== undefined && q.ready.length > q.args.maxLength) this.deadLetter(q, q.ready.shift()!, 'maxlen');
    this.dispatch(q);
  }

  /** Back to its place in publish order. */
  requeue(q: Queue, msg: Message): void {
    msg.redelivered = true;
    msg.deliveryCount++;
    if (q.args.deliveryLimit !== undefined && msg.deliveryCount > q.args.deliveryLimit) {
      this.deadLetter(q, msg, 'delivery_limit');
      return;
    }
    let i = q.ready.length;
    while (i > 0 && q.ready[i - 1]!.seq > msg.seq) i--;
    q.ready.splice(i, 0, msg);
  }

  deadLetter(q: Queue, msg: Message, reason: string): void {
    const dlx = q.args.deadLetterExchange;
    if (dlx === undefined || (dlx !== '' && !this.exchanges.has(dlx))) return;
    const death = [{ queue: q.name, reason, count: 1, exchange: msg.exchange, routingKeys: [msg.routingKey] }, ...msg.death];
    const rk = q.args.deadLetterRoutingKey ?? msg.routingKey;
    for (const name of this.route(dlx, rk, msg.headers)) {
      const target = this.queue(name);
      const ttl = target.args.messageTtlMs ?? Infinity;
      this.enqueue(target, { ...msg, seq: ++this.seq, exchange: dlx, routingKey: rk, expiresAt: this.now() + ttl, deliveryCount: 0, redelivered: false, death });
    }
  }

  /** Next ready message that has not expired (expired ones are dead-lettered on the way). */
  take(q: Queue): Message | undefined {
    for (;;) {
      const m = q.ready.shift();
      if (!m) return undefined;
      if (m.expiresAt <= this.now()) {
        this.deadLetter(q, m, 'expired');
        continue;
      }
      return m;
    }
  }

  dispatch(q: Queue): void {
    // Expire from the head even when nobody consumes.
    while (q.ready.length > 0 && q.ready[0]!.expiresAt <= this.now()) this.deadLetter(q, q.ready.shift()!, 'expired');
    for (;;) {
      if (q.ready.length === 0 || q.consumers.length === 0) return;
      let chosen: Consumer | undefined;
      for (let i = 0; i < q.consumers.length; i++) {
        const c = q.consumers[(q.next + i) % q.consumers.length]!;
        if (c.noAck || c.channel.prefetchCount === 0 || c.unacked < c.channel.prefetchCount) {
          chosen = c;
          q.next = (q.next + i + 1) % q.consumers.length;
          break;
        }
      }
      if (!chosen) return;
      const m = this.take(q);
      if (!m) return;
      chosen.channel.deliver(q, m, chosen);
    }
  }
}

export class MemoryChannel implements QueueChannel {
  prefetchCount = 0;
  private nextTag = 0;
  private closed = false;
  private readonly unacked = new Map<number, { queue: Queue; msg: Message; consumer?: Consumer }>();
  private readonly consumers = new Map<string, Consumer>();
  private tagCounter = 0;

  constructor(private readonly broker: MemoryQueueBroker, readonly confirms: boolean) {}

  private alive(): void {
    if (this.closed) throw new MqlabError('ERR_CLOSED', 'channel is closed');
  }

  private delivery(q: Queue, m: Message, tag: number, consumerTag?: string): QueueDelivery {
    const d: QueueDelivery = { id: m.id, deliveryTag: tag, redelivered: m.redelivered, deliveryCount: m.deliveryCount, queue: q.name, exchange: m.exchange, routingKey: m.routingKey, headers: { ...m.headers }, body: m.body };
    if (consumerTag !== undefined) d.consumerTag = consumerTag;
    if (m.death.length > 0) d.death = m.death;
    return d;
  }

  deliver(q: Queue, m: Message, c: Consumer): void {
    const tag = ++this.nextTag;
    if (!c.noAck) {
      this.unacked.set(tag, { queue: q, msg: m, consumer: c });
      c.unacked++;
    }
    const d = this.delivery(q, m, tag, c.tag);
    // Deliver asynchronously, as a network client would.
    setImmediate(() => {
      if (!this.closed) c.onDelivery(d);
    });
  }

  async assertExchange(name: string, type: ExchangeType, options: ExchangeOptions = {}): Promise<void> {
    this.alive();
    const ex = this.broker.exchanges.get(name);
    if (ex && ex.type !== type) throw amqpError(406, 'PRECONDITION_FAILED', `exchange '${name}' exists with type ${ex.type}`);
    if (!ex) this.broker.exchanges.set(name, { type, durable: options.durable !== false, bindings: [] });
  }

  async assertQueue(name: string, args: QueueArguments = {}): Promise<void> {
    this.alive();
    const q = this.broker.queues.get(name);
    if (q) {
      if (JSON.stringify(q.args) !== JSON.stringify(args)) throw amqpError(406, 'PRECONDITION_FAILED', `queue '${name}' exists with other arguments`);
      return;
    }
    this.broker.queues.set(name, { name, args: { ...args }, ready: [], consumers: [], next: 0 });
  }

  async deleteQueue(name: string): Promise<void> {
    this.alive();
    this.broker.queue(name);
    this.broker.queues.delete(name);
    for (const ex of this.broker.exchanges.values()) ex.bindings = ex.bindings.filter((b) => b.queue !== name);
  }

  async deleteExchange(name: string): Promise<void> {
    this.alive();
    this.broker.exchanges.delete(name);
  }

  async purgeQueue(name: string): Promise<number> {
    const q = this.broker.queue(name);
    const n = q.ready.length;
    q.ready = [];
    return n;
  }

  async bindQueue(queue: string, exchange: string, routingKey: string, args: Args = {}): Promise<void> {
    this.alive();
    this.broker.queue(queue);
    const ex = this.broker.exchanges.get(exchange);
    if (!ex) throw amqpError(404, 'NOT_FOUND', `no exchange '${exchange}'`);
    ex.bindings.push({ queue, routingKey, args });
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args: Args = {}): Promise<void> {
    const ex = this.broker.exchanges.get(exchange);
    if (!ex) throw amqpError(404, 'NOT_FOUND', `no exchange '${exchange}'`);
    ex.bindings = ex.bindings.filter((b) => !(b.queue === queue && b.routingKey === routingKey && JSON.stringify(b.args) === JSON.stringify(args)));
  }

  async checkQueue(name: string): Promise<{ messageCount: number; consumerCount: number }> {
    const q = this.broker.queue(name);
    return { messageCount: q.ready.length, consumerCount: q.consumers.length };
  }

  async publish(exchange: string, routingKey: string, message: PublishMessage, options: PublishOptions = {}): Promise<PublishResult> {
    this.alive();
    const n = this.broker.publish(exchange, routingKey, message);
    return { id: message.id, confirmed: this.confirms ? true : null, returned: n === 0 && options.mandatory === true };
  }

  async prefetch(count: number): Promise<void> {
    this.prefetchCount = count;
  }

  async consume(queue: string, onDelivery: (d: QueueDelivery) => void, options: ConsumeOptions = {}): Promise<{ consumerTag: string }> {
    this.alive();
    const q = this.broker.queue(queue);
    const tag = options.consumerTag ?? `amq.ctag-${++this.tagCounter}`;
    const c: Consumer = { tag, channel: this, noAck: options.noAck === true, onDelivery, unacked: 0 };
    this.consumers.set(tag, c);
    q.consumers.push(c);
    this.broker.dispatch(q);
    return { consumerTag: tag };
  }

  async cancel(consumerTag: string): Promise<void> {
    const c = this.consumers.get(consumerTag);
    if (!c) return;
    this.consumers.delete(consumerTag);
    for (const q of this.broker.queues.values()) q.consumers = q.consumers.filter((x) => x !== c);
  }

  async get(queue: string, options: { noAck?: boolean } = {}): Promise<QueueDelivery | null> {
    this.alive();
    const q = this.broker.queue(queue);
    const m = this.broker.take(q);
    if (!m) return null;
    const tag = ++this.nextTag;
    if (!options.noAck) this.unacked.set(tag, { queue: q, msg: m });
    return this.delivery(q, m, tag);
  }

  private settle(tag: number, multiple: boolean): { queue: Queue; msg: Message }[] {
    this.alive();
    const tags = multiple ? [...this.unacked.keys()].filter((t) => t <= tag).sort((a, b) => a - b) : [tag];
    if (!multiple && !this.unacked.has(tag)) throw amqpError(406, 'PRECONDITION_FAILED', `unknown delivery tag ${tag}`);
    const out: { queue: Queue; msg: Message }[] = [];
    for (const t of tags) {
      const u = this.unacked.get(t)!;
      this.unacked.delete(t);
      if (u.consumer) u.consumer.unacked--;
      out.push(u);
    }
    return out;
  }

  private redispatch(list: { queue: Queue }[]): void {
    for (const q of new Set(list.map((u) => u.queue))) this.broker.dispatch(q);
  }

  async ack(deliveryTag: number, multiple = false): Promise<void> {
    this.redispatch(this.settle(deliveryTag, multiple));
  }

  async nack(deliveryTag: number, options: { multiple?: boolean; requeue?: boolean } = {}): Promise<void> {
    const list = this.settle(deliveryTag, options.multiple === true);
    for (const u of list) {
      if (options.requeue !== false) this.broker.requeue(u.queue, u.msg);
      else this.broker.deadLetter(u.queue, u.msg, 'rejected');
    }
    this.redispatch(list);
  }

  async reject(deliveryTag: number, requeue = true): Promise<void> {
    await this.nack(deliveryTag, { requeue });
  }

  /** Requeues everything unacked and detaches consumers (close, crash, broker restart). */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    for (const tag of [...this.consumers.keys()]) void this.cancel(tag);
    const list = [...this.unacked.entries()].sort((a, b) => a[0] - b[0]).map(([, u]) => u);
    this.unacked.clear();
    for (const u of list) this.broker.requeue(u.queue, u.msg);
    this.broker.channels.delete(this);
    this.redispatch(list);
  }

  async close(): Promise<void> {
    this.drop();
  }

  async crash(): Promise<void> {
    this.drop();
  }
}

const CAPABILITIES: readonly QueueCapability[] = ['exchange-direct', 'exchange-fanout', 'exchange-topic', 'exchange-headers', 'publisher-confirms', 'mandatory', 'get', 'prefetch', 'nack', 'delivery-count', 'delivery-limit', 'message-ttl', 'queue-ttl-per-message', 'dead-letter', 'durable'];

export class MemoryQueueAdapter implements QueueAdapter {
  readonly info: AdapterInfo<'rabbitmq', QueueCapability> = {
    model: 'rabbitmq',
    name: 'in-memory example queue adapter',
    guarantee: 'at-least-once',
    capabilities: [...CAPABILITIES, 'consumer-crash', 'broker-restart', 'virtual-time'],
  };
  readonly broker = new MemoryQueueBroker();

  async openChannel(options: ChannelOptions = {}): Promise<QueueChannel> {
    const ch = new MemoryChannel(this.broker, options.confirms === true);
    this.broker.channels.add(ch);
    return ch;
  }

  async restartBroker(): Promise<void> {
    for (const ch of [...this.broker.channels]) ch.drop();
    for (const [name, q] of [...this.broker.queues]) {
      if (q.args.durable === false) {
        this.broker.queues.delete(name);
        continue;
      }
      q.ready = q.ready.filter((m) => m.persistent);
      q.consumers = [];
    }
    for (const [name, ex] of [...this.broker.exchanges]) {
      if (!ex.durable) this.broker.exchanges.delete(name);
      else ex.bindings = ex.bindings.filter((b) => this.broker.queues.has(b.queue));
    }
  }

  async advanceTime(ms: number): Promise<void> {
    this.broker.advance(ms);
  }

  async close(): Promise<void> {
    for (const ch of [...this.broker.channels]) ch.drop();
  }
}

/** The adapter the harness loads: the example plus producers and consumers on worker threads. */
class ThreadedMemoryQueueAdapter extends MemoryQueueAdapter {
  override readonly info: AdapterInfo<'rabbitmq', QueueCapability> = {
    model: 'rabbitmq',
    name: 'in-memory example queue adapter',
    guarantee: 'at-least-once',
    capabilities: [...CAPABILITIES, 'consumer-crash', 'broker-restart', 'virtual-time', 'worker-threads'],
  };
  private readonly servers: { close(): void }[] = [];

  async workerSpec(): Promise<WorkerSpec> {
    return queueWorkerSpec(this, this.servers);
  }

  override async close(): Promise<void> {
    for (const s of this.servers) s.close();
    await super.close();
  }
}

export function createAdapter(_options: AdapterOptions): QueueAdapter {
  return new ThreadedMemoryQueueAdapter();
}
