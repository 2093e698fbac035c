import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import { MqlabError } from '../errors';
import { connectRpc, fromWireError, toWireError, type Remote, type RpcClientControls, type WireError } from '../threads';
import type { BatchOp, BatchReply, PackedDelivery, RemoteEngineHost, WireDelivery } from './remote-host';
import { AmqpErrors } from './amqp-errors';
import { buildProperties } from './message-properties';
import { checkBoolean, checkContent, checkNonNegativeInteger, checkOptions, checkShortString } from './validate';
import type { AssertExchangeOptions, AssertQueueOptions, AssertQueueReply, ConsumeMessage, ConsumeOptions, DeleteQueueOptions, ExchangeType, FieldTable, GetMessage, PublishOptions, ReturnMessage } from './types';

type Host = Remote<RemoteEngineHost> & { $rpc: RpcClientControls };

/**
 * The worker-thread side of remote-host.ts: an engine handle whose connections and channels
 * look like the local ones (amqplib-shaped), with every operation crossing to the engine's
 * thread. publish / ack / nack / reject are buffered and sent together once per turn, in order;
 * `sync()` waits until the engine has processed everything sent so far.
 */
export class RemoteEngine {
  private readonly host: Host;
  readonly channels = new Map<number, RemoteChannel>();

  constructor(port: MessagePort) {
    this.host = connectRpc<RemoteEngineHost>(port, { timeoutMs: 0 }) as Host;
    this.host.$rpc.on('deliveries', (p) => {
      for (const d of p as WireDelivery[]) this.channels.get(d.channel)?.receive(d.consumerTag, d.messages);
    });
    this.host.$rpc.on('packed', (p) => {
      const d = p as PackedDelivery;
      this.channels.get(d.channel)?.receivePacked(d);
    });
    this.host.$rpc.on('return', (p) => {
      const { channel, message } = p as { channel: number; message: ReturnMessage };
      this.channels.get(channel)?.emit('return', withBuffer(message));
    });
  }

  async connect(): Promise<RemoteConnection> {
    return new RemoteConnection(this, this.host, await this.host.connect());
  }

  async close(): Promise<void> {
    for (const ch of this.channels.values()) ch.stop();
    this.host.$rpc.close();
  }
}

export class RemoteConnection {
  private readonly mine = new Set<RemoteChannel>();

  constructor(
    private readonly engine: RemoteEngine,
    private readonly host: Host,
    readonly id: number,
  ) {}

  async createChannel(): Promise<RemoteChannel> {
    return this.open(false);
  }

  async createConfirmChannel(): Promise<RemoteChannel> {
    return this.open(true);
  }

  private async open(confirm: boolean): Promise<RemoteChannel> {
    const id = await this.host.openChannel(this.id, confirm);
    const ch = new RemoteChannel(this.host, id, confirm);
    this.engine.channels.set(id, ch);
    this.mine.add(ch);
    return ch;
  }

  async close(): Promise<void> {
    for (const ch of this.mine) {
      ch.stop();
      this.engine.channels.delete(ch.id);
    }
    await this.host.closeConnection(this.id);
  }
}

export class RemoteChannel extends EventEmitter {
  private ops: BatchOp[] = [];
  private callbacks = new Map<number, (err: Error | null) => void>();
  private seq = 0;
  private flushQueued = false;
  private inflight: Promise<void> = Promise.resolve();
  private firstError: Error | null = null;
  /** waitForConfirms() calls in progress: the publishes they wait for, and the first nack among them. */
  private confirmWaiters: Array<{ upTo: number; nack: Error | null }> = [];
  private readonly consumers = new Map<string, (m: ConsumeMessage | null) => void>();
  private readonly packedConsumers = new Map<string, (d: PackedDelivery) => void>();
  private tagSeq = 0;
  private stopped = false;

  constructor(
    private readonly host: Host,
    readonly id: number,
    readonly confirmMode: boolean,
  ) {
    super();
  }

  assertExchange(name: string, type: ExchangeType, options?: AssertExchangeOptions): Promise<{ exchange: string }> {
    return this.op('assertExchange', [name, type, options]) as Promise<{ exchange: string }>;
  }
  checkExchange(name: string): Promise<Record<string, never>> {
    return this.op('checkExchange', [name]) as Promise<Record<string, never>>;
  }
  assertQueue(name = '', options?: AssertQueueOptions): Promise<AssertQueueReply> {
    return this.op('assertQueue', [name, options]) as Promise<AssertQueueReply>;
  }
  checkQueue(name: string): Promise<AssertQueueReply> {
    return this.op('checkQueue', [name]) as Promise<AssertQueueReply>;
  }
  deleteQueue(name: string, options?: DeleteQueueOptions): Promise<{ messageCount: number }> {
    return this.op('deleteQueue', [name, options]) as Promise<{ messageCount: number }>;
  }
  deleteExchange(name: string, options?: { ifUnused?: boolean }): Promise<Record<string, never>> {
    return this.op('deleteExchange', [name, options]) as Promise<Record<string, never>>;
  }
  purgeQueue(name: string): Promise<{ messageCount: number }> {
    return this.op('purgeQueue', [name]) as Promise<{ messageCount: number }>;
  }
  bindQueue(queue: string, source: string, pattern: string, args?: FieldTable): Promise<Record<string, never>> {
    return this.op('bindQueue', [queue, source, pattern, args]) as Promise<Record<string, never>>;
  }
  unbindQueue(queue: string, source: string, pattern: string, args?: FieldTable): Promise<Record<string, never>> {
    return this.op('unbindQueue', [queue, source, pattern, args]) as Promise<Record<string, never>>;
  }
  prefetch(count: number, global = false): Promise<Record<string, never>> {
    return this.op('prefetch', [count, global]) as Promise<Record<string, never>>;
  }
  cancel(consumerTag: string): Promise<{ consumerTag: string }> {
    this.consumers.delete(consumerTag);
    this.packedConsumers.delete(consumerTag);
    return this.op('cancel', [consumerTag]) as Promise<{ consumerTag: string }>;
  }
  recover(): Promise<Record<string, never>> {
    return this.op('recover', []) as Promise<Record<string, never>>;
  }

  async get(queue: string, options?: { noAck?: boolean }): Promise<GetMessage | false> {
    const m = (await this.op('get', [queue, options])) as GetMessage | false;
    return m === false ? false : withBuffer(m);
  }

  async consume(queue: string, onMessage: (m: ConsumeMessage | null) => void, consumeOptions?: ConsumeOptions): Promise<{ consumerTag: string }> {
    const options = checkConsume(onMessage, consumeOptions);
    // The tag is chosen here so deliveries arriving before the reply already have a home.
    const consumerTag = options.consumerTag ?? `amq.ctag-remote-${process.pid}-${this.id}-${++this.tagSeq}-${Math.random().toString(36).slice(2)}`;
    this.consumers.set(consumerTag, onMessage);
    try {
      return (await this.op('consume', [queue, { ...options, consumerTag }])) as { consumerTag: string };
    } catch (e) {
      this.consumers.delete(consumerTag);
      throw e;
    }
  }

  /**
   * A consumer that receives its deliveries packed: contents back to back (one buffer per engine
   * turn, same-size messages), with the first and last delivery tags (consecutive on a channel
   * with one consumer). For benchmarks: no per-message objects cross the thread boundary.
   */
  async consumePacked(queue: string, onDeliveries: (d: PackedDelivery) => void, consumeOptions?: ConsumeOptions): Promise<{ consumerTag: string }> {
    const options = checkConsume(onDeliveries, consumeOptions);
    const consumerTag = options.consumerTag ?? `amq.ctag-remote-${process.pid}-${this.id}-${++this.tagSeq}-${Math.random().toString(36).slice(2)}`;
    this.packedConsumers.set(consumerTag, onDeliveries);
    try {
      return (await this.op('consume', [queue, { ...options, consumerTag, packed: true }])) as { consumerTag: string };
    } catch (e) {
      this.packedConsumers.delete(consumerTag);
      throw e;
    }
  }

  /** `count` messages of `size` bytes back to back in `data`; the callback runs once for all. */
  publishPacked(exchange: string, routingKey: string, data: Uint8Array, count: number, size: number, options?: PublishOptions, cb?: (err: Error | null) => void): boolean {
    if (this.stopped) throw new MqlabError('CHANNEL_ERROR', `CHANNEL_ERROR - remote channel ${this.id} is closed`, { replyCode: 504 });
    checkContent(data);
    checkNonNegativeInteger('count', count);
    checkNonNegativeInteger('size', size);
    if (count * size > data.byteLength) throw AmqpErrors.invalidArg('data', `holds ${data.byteLength} bytes, fewer than count × size`, { argument: 'data' });
    options = wireOptions(exchange, routingKey, options, cb);
    const seq = ++this.seq;
    if (cb) this.callbacks.set(seq, cb);
    this.push(options === undefined ? { k: 'pubs', seq, exchange, routingKey, data, count, size } : { k: 'pubs', seq, exchange, routingKey, data, count, size, options });
    return true;
  }

  /** Buffered; the callback (confirm channels) runs when the engine confirms. */
  publish(exchange: string, routingKey: string, content: Uint8Array, options?: PublishOptions, cb?: (err: Error | null) => void): boolean {
    if (this.stopped) throw new MqlabError('CHANNEL_ERROR', `CHANNEL_ERROR - remote channel ${this.id} is closed`, { replyCode: 504 });
    if (!(content instanceof Uint8Array) || content.byteLength === 0) checkContent(content);
    if (options !== undefined || cb !== undefined || typeof exchange !== 'string' || typeof routingKey !== 'string') options = wireOptions(exchange, routingKey, options, cb);
    const seq = ++this.seq;
    if (cb) this.callbacks.set(seq, cb);
    this.push(options === undefined ? { k: 'pub', seq, exchange, routingKey, content } : { k: 'pub', seq, exchange, routingKey, content, options });
    return true;
  }
  sendToQueue(queue: string, content: Uint8Array, options?: PublishOptions, cb?: (err: Error | null) => void): boolean {
    return this.publish('', queue, content, options, cb);
  }
  ack(message: number | { fields: { deliveryTag: number } }, allUpTo = false): void {
    this.push({ k: 'ack', tag: tagOf(message), multiple: checkBoolean('allUpTo', allUpTo, false) });
  }
  nack(message: number | { fields: { deliveryTag: number } }, allUpTo = false, requeue = true): void {
    this.push({ k: 'nack', tag: tagOf(message), multiple: checkBoolean('allUpTo', allUpTo, false), requeue: checkBoolean('requeue', requeue, true) });
  }
  ackAll(): void {
    this.push({ k: 'ack', tag: 0, multiple: true });
  }
  nackAll(requeue = true): void {
    this.push({ k: 'nack', tag: 0, multiple: true, requeue: checkBoolean('requeue', requeue, true) });
  }
  reject(message: number | { fields: { deliveryTag: number } }, requeue = true): void {
    this.push({ k: 'nack', tag: tagOf(message), multiple: false, requeue: checkBoolean('requeue', requeue, true) });
  }

  /**
   * Resolves when everything sent so far was processed; rejects with the first error an operation
   * among them threw (a nacked publish is not one: its callback and waitForConfirms() say so).
   */
  async sync(): Promise<void> {
    this.flush();
    await this.inflight;
    const e = this.firstError;
    this.firstError = null;
    if (e) throw e;
  }

  /**
   * Resolves when every publish so far is confirmed; rejects as a local waitForConfirms() does if
   * one of them is nacked (with the store error, or PRECONDITION_FAILED for reject-publish), or
   * with the first error an operation threw (as sync()).
   */
  async waitForConfirms(): Promise<void> {
    const waiter = { upTo: this.seq, nack: null as Error | null };
    this.confirmWaiters.push(waiter);
    try {
      await this.sync();
    } finally {
      this.confirmWaiters = this.confirmWaiters.filter((w) => w !== waiter);
    }
    if (waiter.nack) throw waiter.nack;
  }

  async close(): Promise<void> {
    await this.sync().catch(() => undefined);
    this.stop();
    await this.host.closeChannel(this.id);
  }

  /** @internal */
  stop(): void {
    this.stopped = true;
    this.consumers.clear();
    this.packedConsumers.clear();
  }

  /** @internal */
  receivePacked(d: PackedDelivery): void {
    this.packedConsumers.get(d.consumerTag)?.(d);
  }

  /** @internal */
  receive(consumerTag: string, messages: Array<ConsumeMessage | null>): void {
    const cb = this.consumers.get(consumerTag);
    if (!cb) return;
    for (const m of messages) {
      try {
        cb(m === null ? null : withBuffer(m));
      } catch (e) {
        if (this.listenerCount('error') > 0) this.emit('error', e);
        else throw e;
      }
    }
  }

  private op(method: string, args: unknown[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(new MqlabError('CHANNEL_ERROR', `CHANNEL_ERROR - remote channel ${this.id} is closed`, { replyCode: 504 }));
    this.flush();
    // Ordered after the buffered publishes/settles.
    return this.inflight.then(() => this.host.op(this.id, method, args));
  }

  private push(op: BatchOp): void {
    this.ops.push(op);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.ops.length === 0) return;
    const ops = this.ops;
    this.ops = [];
    const sent = this.host.batch(this.id, ops).then(
      (reply: BatchReply) => this.settleBatch(ops, reply),
      (e: unknown) => {
        // The batch never ran (the channel or the port closed): every publish in it is nacked.
        const error = toWireError(e, 'ERR_REMOTE');
        const nacked = ops.flatMap((o) => (o.k === 'pub' || o.k === 'pubs' ? [o.seq] : []));
        this.settleBatch(ops, { nacked, reasons: nacked.map(() => error), error });
      },
    );
    this.inflight = this.inflight.then(() => sent);
  }

  private settleBatch(ops: BatchOp[], reply: BatchReply): void {
    if (reply.error && !this.firstError) this.firstError = fromWireError(reply.error);
    const reasons = new Map<number, WireError>();
    for (let i = 0; i < reply.nacked.length; i++) {
      const seq = reply.nacked[i]!;
      const reason = reply.reasons?.[i] ?? { message: 'message nacked' };
      reasons.set(seq, reason);
      for (const w of this.confirmWaiters) if (w.nack === null && seq <= w.upTo) w.nack = reason.code === undefined ? AmqpErrors.publishNacked() : fromWireError(reason);
    }
    for (const o of ops) {
      if (o.k !== 'pub' && o.k !== 'pubs') continue;
      const cb = this.callbacks.get(o.seq);
      if (!cb) continue;
      this.callbacks.delete(o.seq);
      const reason = reasons.get(o.seq);
      cb(reason === undefined ? null : fromWireError(reason));
    }
  }
}

function tagOf(m: number | { fields: { deliveryTag: number } }): number {
  const tag = typeof m === 'number' ? m : (m as { fields?: { deliveryTag?: unknown } } | null)?.fields?.deliveryTag;
  if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0) throw AmqpErrors.invalidArg('message', 'must be a delivered message or a delivery tag', { argument: 'message' });
  return tag;
}

/** Publish options the engine acts on; anything else is left behind (it might not cross the thread boundary). */
const WIRE_OPTION_KEYS = ['contentType', 'contentEncoding', 'headers', 'deliveryMode', 'priority', 'correlationId', 'replyTo', 'expiration', 'messageId', 'timestamp', 'type', 'userId', 'appId', 'persistent', 'mandatory', 'CC', 'BCC'] as const;

/**
 * Checks a publish on the client's side, so a bad one throws here (as on a local channel) and
 * never joins a batch, where a value that cannot be cloned would fail its neighbours too.
 */
function wireOptions(exchange: unknown, routingKey: unknown, options: PublishOptions | undefined, cb: unknown): PublishOptions | undefined {
  checkShortString('exchange name', exchange);
  checkShortString('routing key', routingKey);
  if (cb !== undefined && typeof cb !== 'function') throw AmqpErrors.invalidArg('confirm callback', 'must be a function', { argument: 'callback' });
  if (options === undefined) return undefined;
  const o = checkOptions('publish options', options);
  buildProperties(o);
  checkBoolean('mandatory', o.mandatory, false);
  checkBoolean('persistent', o.persistent, false);
  const wire: Record<string, unknown> = {};
  for (const k of WIRE_OPTION_KEYS) if (o[k] !== undefined) wire[k] = o[k];
  return wire as PublishOptions;
}

function checkConsume(onMessage: unknown, consumeOptions: ConsumeOptions | undefined): ConsumeOptions {
  if (typeof onMessage !== 'function') throw AmqpErrors.invalidArg('onMessage', 'must be a function', { argument: 'onMessage' });
  const options = checkOptions('consume options', consumeOptions);
  if (options.consumerTag !== undefined) checkShortString('consumerTag', options.consumerTag);
  checkBoolean('noAck', options.noAck, false);
  checkBoolean('exclusive', options.exclusive, false);
  return options;
}

/** Structured clone turns Buffers into Uint8Arrays; give consumers Buffers back. */
function withBuffer<T extends { content: Uint8Array }>(m: T): T & { content: Buffer } {
  const c = m.content;
  return { ...m, content: Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength) };
}

export function connectRemoteEngine(port: MessagePort): RemoteEngine {
  return new RemoteEngine(port);
}
