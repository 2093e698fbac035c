import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { amqpError, AmqpErrors, ReplyCodes } from './amqp-errors';
import { Consumer } from './consumer';
import type { Connection } from './connection';
import type { RabbitEngine } from './engine';
import { PublishOutcome } from './publish-outcome';
import { EntryState, type DeliveryHolder, type QueueEntry } from './message';
import { withDeliveryCount } from './consumer';
import { buildProperties } from './message-properties';
import type {
  AssertExchangeOptions,
  AssertQueueOptions,
  AssertQueueReply,
  ConsumeMessage,
  ConsumeOptions,
  DeleteQueueOptions,
  ExchangeType,
  FieldTable,
  GetMessage,
  Message,
  PublishOptions,
  ReturnMessage,
} from './types';
import { checkBoolean, checkNonNegativeInteger, checkOptions, checkShortString } from './validate';

// Hot-path bindings: under tsx (esbuild) each use of an imported name is a getter call, so the
// names used per message are bound once here (tsc output is unaffected).
const UNROUTABLE = PublishOutcome.Unroutable;
const REJECTED = PublishOutcome.Rejected;

export type ConfirmCallback = (err: Error | null, ok?: unknown) => void;

interface ConfirmWaiter {
  upTo: number;
  failed: boolean;
  /** The store error that nacked a message it waits for (else the nack is a reject-publish). */
  failure?: Error | undefined;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A delivery tag, or a delivered message (as amqplib's ack(message)). */
export type DeliveryRef = number | Pick<Message, 'fields'>;

/**
 * A channel, shaped like amqplib's: declarations return promises, `publish` / `ack` are
 * synchronous. Delivery tags are per channel; unacked deliveries belong to the channel and go
 * back to their queues (redelivered = true) when it closes.
 *
 * Unlike a broker, an error does not close the channel: a bad call throws (or rejects) a typed
 * MqlabError with the AMQP reply text as `code` and `details.replyCode`, and the channel, its
 * consumers and its unacked deliveries carry on unchanged.
 */
export class Channel extends EventEmitter implements DeliveryHolder {
  closed = false;
  protected readonly engine: RabbitEngine;
  private readonly unacked = new Map<number, QueueEntry>();
  private readonly consumers = new Map<string, Consumer>();
  private tagSeq = 0;
  private consumerPrefetch = 0;
  private globalPrefetch = 0;
  private consumerUnacked = 0;
  // Confirms: `publishSeq` messages published in confirm mode, `confirmedSeq` settled.
  protected publishSeq = 0;
  /** Publishes handed to the engine's pump for confirming, and those whose confirm was delivered. */
  private takenSeq = 0;
  protected confirmedSeq = 0;
  private pendingCallbacks: Array<ConfirmCallback | undefined> = [];
  private pendingNacks: number[] = [];
  private pendingReturns: ReturnMessage[] = [];
  private confirmQueued = false;
  private waiters: ConfirmWaiter[] = [];

  constructor(
    readonly connection: Connection,
    readonly id: number,
    readonly confirmMode: boolean,
  ) {
    super();
    this.engine = connection.engine;
  }

  // ---- declarations (amqplib: promise-returning) --------------------------------------------

  async assertExchange(name: string, type: ExchangeType, options?: AssertExchangeOptions): Promise<{ exchange: string }> {
    this.checkOpen();
    return this.engine.declareExchange(name, type, checkOptions('exchange options', options));
  }

  async checkExchange(name: string): Promise<Record<string, never>> {
    this.checkOpen();
    this.engine.checkExchange(name);
    return {};
  }

  async deleteExchange(name: string, options?: { ifUnused?: boolean }): Promise<Record<string, never>> {
    this.checkOpen();
    this.engine.deleteExchange(name, checkOptions('delete options', options));
    return {};
  }

  async assertQueue(name = '', options?: AssertQueueOptions): Promise<AssertQueueReply> {
    this.checkOpen();
    return this.engine.declareQueue(this.connection, name, checkOptions('queue options', options));
  }

  async checkQueue(name: string): Promise<AssertQueueReply> {
    this.checkOpen();
    const q = this.engine.queueFor(this.connection, name);
    q.expireHead(this.engine.now());
    return { queue: q.name, messageCount: q.readyCount, consumerCount: q.consumerCount };
  }

  async deleteQueue(name: string, options?: DeleteQueueOptions): Promise<{ messageCount: number }> {
    this.checkOpen();
    return this.engine.deleteQueue(this.connection, name, checkOptions('delete options', options));
  }

  async purgeQueue(name: string): Promise<{ messageCount: number }> {
    this.checkOpen();
    return this.engine.purgeQueue(this.connection, name);
  }

  async bindQueue(queue: string, source: string, pattern: string, args?: FieldTable): Promise<Record<string, never>> {
    this.checkOpen();
    this.engine.bindQueue(this.connection, queue, source, pattern, args);
    return {};
  }

  async unbindQueue(queue: string, source: string, pattern: string, args?: FieldTable): Promise<Record<string, never>> {
    this.checkOpen();
    this.engine.unbindQueue(this.connection, queue, source, pattern, args);
    return {};
  }

  // ---- publishing ---------------------------------------------------------------------------

  /**
   * Publishes one message. Throws NOT_FOUND for a missing exchange and PRECONDITION_FAILED for
   * bad properties, before anything is routed. Returns true (there is no socket to back up).
   */
  publish(exchange: string, routingKey: string, content: Uint8Array, options?: PublishOptions): boolean {
    return this.publishWith(exchange, routingKey, content, options, undefined);
  }

  sendToQueue(queue: string, content: Uint8Array, options?: PublishOptions): boolean {
    return this.publishWith('', queue, content, options, undefined);
  }

  protected publishWith(exchange: string, routingKey: string, content: Uint8Array, options: PublishOptions | undefined, cb: ConfirmCallback | undefined): boolean {
    if (this.closed) throw AmqpErrors.channelClosed(this.id);
    if (cb !== undefined && typeof cb !== 'function') throw AmqpErrors.invalidArg('confirm callback', 'must be a function', { argument: 'callback' });
    if (options !== undefined && (options === null || typeof options !== 'object')) throw AmqpErrors.invalidArg('publish options', 'must be an object', { argument: 'options' });
    const outcome = this.engine.publish(exchange, routingKey, content, options);
    if (outcome === UNROUTABLE && options !== undefined && options.mandatory === true) {
      this.pendingReturns.push({
        content: Buffer.from(content),
        fields: { replyCode: ReplyCodes.NO_ROUTE, replyText: 'NO_ROUTE', exchange, routingKey },
        properties: buildProperties(options),
      });
      this.queueConfirmWork();
    }
    if (this.confirmMode) {
      const seq = ++this.publishSeq;
      this.pendingCallbacks.push(cb);
      if (outcome === REJECTED) this.pendingNacks.push(seq);
      this.queueConfirmWork();
    }
    return true;
  }

  private queueConfirmWork(): void {
    if (this.confirmQueued) return;
    this.confirmQueued = true;
    this.engine.scheduleConfirms(this);
  }

  /**
   * @internal The engine's pump takes this round's returns and confirms; calling the returned
   * function emits the returns, then settles the confirms in publish order (basic.return before
   * basic.ack, as a broker sends them). With `failure` (a store write failed), every confirm of
   * the batch is a nack carrying it.
   */
  takeConfirmBatch(): (failure?: Error) => void {
    this.confirmQueued = false;
    const returns = this.pendingReturns;
    const callbacks = this.pendingCallbacks;
    const nacks = this.pendingNacks;
    if (returns.length > 0) this.pendingReturns = [];
    if (callbacks.length > 0) this.pendingCallbacks = [];
    if (nacks.length > 0) this.pendingNacks = [];
    const first = this.takenSeq + 1;
    this.takenSeq += callbacks.length;
    return (failure) => this.settleConfirms(returns, callbacks, nacks, first, failure);
  }

  private settleConfirms(returns: ReturnMessage[], callbacks: Array<ConfirmCallback | undefined>, nacks: number[], first: number, failure: Error | undefined): void {
    for (const r of returns) this.emit('return', r);
    let nackIdx = 0;
    for (let i = 0; i < callbacks.length; i++) {
      const seq = first + i;
      let nacked = nackIdx < nacks.length && nacks[nackIdx] === seq;
      if (nacked) nackIdx++;
      if (failure !== undefined) nacked = true;
      if (nacked) {
        for (const w of this.waiters) {
          if (w.upTo < seq) continue;
          w.failed = true;
          if (failure !== undefined && w.failure === undefined) w.failure = failure;
        }
      }
      const cb = callbacks[i];
      if (cb !== undefined) {
        try {
          cb(nacked ? (failure ?? new Error('message nacked')) : null);
        } catch (e) {
          this.consumerFailed(e);
        }
      }
    }
    const last = first + callbacks.length - 1;
    if (last > this.confirmedSeq) this.confirmedSeq = last;
    if (this.waiters.length > 0) {
      const still: ConfirmWaiter[] = [];
      for (const w of this.waiters) {
        if (w.upTo > last) still.push(w);
        else if (w.failed) w.reject(w.failure ?? AmqpErrors.publishNacked());
        else w.resolve();
      }
      this.waiters = still;
    }
  }

  /** Resolves once every message published so far on this channel is confirmed; rejects if one was nacked. */
  protected waitForAll(): Promise<void> {
    const upTo = this.publishSeq;
    if (this.confirmedSeq >= upTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo, failed: false, resolve, reject }));
  }

  // ---- consuming ----------------------------------------------------------------------------

  async consume(queue: string, onMessage: (msg: ConsumeMessage | null) => void, consumeOptions?: ConsumeOptions): Promise<{ consumerTag: string }> {
    this.checkOpen();
    const options = checkOptions('consume options', consumeOptions);
    if (typeof onMessage !== 'function') throw AmqpErrors.invalidArg('onMessage', 'must be a function', { argument: 'onMessage' });
    const q = this.engine.queueFor(this.connection, queue);
    const noAck = checkBoolean('noAck', options.noAck, false);
    const exclusive = checkBoolean('exclusive', options.exclusive, false);
    const tag = options.consumerTag === undefined || options.consumerTag === '' ? `amq.ctag-${randomBytes(16).toString('base64url')}` : checkShortString('consumerTag', options.consumerTag);
    if (this.consumers.has(tag)) throw amqpError('NOT_ALLOWED', `attempt to reuse consumer tag '${tag}'`, { consumerTag: tag });
    if (q.exclusiveConsumer !== null || (exclusive && q.consumerCount > 0)) {
      throw amqpError('ACCESS_REFUSED', `queue '${queue}' in vhost '/' in exclusive use`, { queue });
    }
    const consumer = new Consumer(tag, this, q, noAck, exclusive, this.consumerPrefetch, onMessage);
    this.consumers.set(tag, consumer);
    if (exclusive) q.exclusiveConsumer = consumer;
    q.addConsumer(consumer);
    return { consumerTag: tag };
  }

  /** Stops a consumer. Its unacked deliveries stay with the channel until settled or closed. */
  async cancel(consumerTag: string): Promise<{ consumerTag: string }> {
    this.checkOpen();
    checkShortString('consumerTag', consumerTag);
    this.cancelConsumer(consumerTag);
    return { consumerTag };
  }

  private cancelConsumer(tag: string): void {
    const c = this.consumers.get(tag);
    if (!c) return;
    this.consumers.delete(tag);
    c.active = false;
    if (c.queue.exclusiveConsumer === c) c.queue.exclusiveConsumer = null;
    c.queue.removeConsumer(c);
  }

  /** @internal the queue was deleted under this consumer. */
  forgetConsumer(tag: string): void {
    this.consumers.delete(tag);
  }

  /** Pull one message (basic.get); false when none is ready. Not bound by prefetch. */
  async get(queue: string, getOptions?: { noAck?: boolean }): Promise<GetMessage | false> {
    this.checkOpen();
    const options = checkOptions('get options', getOptions);
    const q = this.engine.queueFor(this.connection, queue);
    const noAck = checkBoolean('noAck', options.noAck, false);
    const entry = q.takeReady(this.engine.now());
    if (entry === undefined) return false;
    const tag = this.nextDeliveryTag();
    if (noAck) q.settle(entry);
    else {
      q.markUnacked(entry);
      entry.holder = this;
      entry.deliveryTag = tag;
      this.track(entry, false);
    }
    const m = entry.message;
    return {
      content: m.content,
      fields: { deliveryTag: tag, redelivered: entry.redelivered, exchange: m.exchange, routingKey: m.routingKey, messageCount: q.readyCount },
      properties: entry.deliveryCount > 0 && q.addsDeliveryCount ? withDeliveryCount(m.properties, entry.deliveryCount) : m.properties,
    };
  }

  /**
   * amqplib's prefetch(count, global): without `global`, the limit of unacked deliveries for each
   * consumer started afterwards on this channel; with it, a limit shared by the whole channel.
   * 0 = unlimited.
   */
  async prefetch(count: number, global = false): Promise<Record<string, never>> {
    this.checkOpen();
    checkNonNegativeInteger('prefetch count', count, 65535);
    if (checkBoolean('global', global, false)) {
      this.globalPrefetch = count;
      this.wakeConsumers();
    } else this.consumerPrefetch = count;
    return {};
  }

  // ---- settling -----------------------------------------------------------------------------

  ack(message: DeliveryRef, allUpTo = false): void {
    this.settle(tagOf(message), checkBoolean('allUpTo', allUpTo, false), Settle.Ack);
  }

  ackAll(): void {
    this.settle(0, true, Settle.Ack);
  }

  nack(message: DeliveryRef, allUpTo = false, requeue = true): void {
    this.settle(tagOf(message), checkBoolean('allUpTo', allUpTo, false), checkBoolean('requeue', requeue, true) ? Settle.Requeue : Settle.Reject);
  }

  nackAll(requeue = true): void {
    this.settle(0, true, checkBoolean('requeue', requeue, true) ? Settle.Requeue : Settle.Reject);
  }

  reject(message: DeliveryRef, requeue = true): void {
    this.settle(tagOf(message), false, checkBoolean('requeue', requeue, true) ? Settle.Requeue : Settle.Reject);
  }

  /** basic.recover: every unacked delivery of this channel goes back to its queue. */
  async recover(): Promise<Record<string, never>> {
    this.checkOpen();
    this.settle(0, true, Settle.Requeue);
    return {};
  }

  private settle(tag: number, multiple: boolean, how: Settle): void {
    if (this.closed) throw AmqpErrors.channelClosed(this.id);
    if (!Number.isInteger(tag) || tag < 0) throw AmqpErrors.unknownDeliveryTag(tag);
    if (!multiple || tag !== 0) {
      const entry = this.unacked.get(tag);
      if (entry === undefined) throw AmqpErrors.unknownDeliveryTag(tag);
      if (!multiple) {
        this.unacked.delete(tag);
        this.finish(entry, how);
        return;
      }
    }
    // multiple: every unacked tag up to `tag` (0 = all), in delivery order.
    const taken: QueueEntry[] = [];
    for (const [t, e] of this.unacked) {
      if (tag !== 0 && t > tag) break;
      taken.push(e);
    }
    for (const e of taken) this.unacked.delete(e.deliveryTag);
    for (const e of taken) this.finish(e, how);
  }

  private finish(entry: QueueEntry, how: Settle): void {
    entry.holder?.released(entry);
    const q = entry.queue;
    if (how === Settle.Ack) q.settle(entry);
    else if (how === Settle.Requeue) q.requeue(entry);
    else q.reject(entry);
  }

  // ---- bookkeeping used by consumers and queues ---------------------------------------------

  /** @internal */
  nextDeliveryTag(): number {
    return ++this.tagSeq;
  }

  /** @internal */
  track(entry: QueueEntry, byConsumer: boolean): void {
    this.unacked.set(entry.deliveryTag, entry);
    if (byConsumer) this.consumerUnacked++;
  }

  /** @internal room under the channel-wide (global) prefetch. */
  hasRoom(): boolean {
    return this.globalPrefetch === 0 || this.consumerUnacked < this.globalPrefetch;
  }

  /** @internal a consumer delivery was settled. */
  releasedOne(): void {
    this.consumerUnacked--;
    if (this.globalPrefetch !== 0 && this.consumerUnacked === this.globalPrefetch - 1) this.wakeConsumers();
  }

  /** A `get` delivery was settled (DeliveryHolder). */
  released(entry: QueueEntry): void {
    entry.holder = null;
  }

  private wakeConsumers(): void {
    for (const c of this.consumers.values()) if (c.queue.readyCount > 0) this.engine.scheduleDispatch(c.queue);
  }

  /** @internal a consumer callback threw. */
  consumerFailed(e: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else
      queueMicrotask(() => {
        throw e;
      });
  }

  /** Number of deliveries not yet settled on this channel. */
  get unackedCount(): number {
    return this.unacked.size;
  }

  // ---- closing ------------------------------------------------------------------------------

  /** Closes the channel: consumers stop, unacked deliveries are requeued (redelivered = true). */
  async close(): Promise<void> {
    this.closeNow();
  }

  closeNow(): void {
    if (this.closed) return;
    for (const tag of [...this.consumers.keys()]) this.cancelConsumer(tag);
    const entries = [...this.unacked.values()];
    this.unacked.clear();
    for (const e of entries) {
      if (e.state !== EntryState.Unacked) continue;
      this.finish(e, Settle.Requeue);
    }
    // Messages already routed are confirmed: settle what is pending now.
    this.confirmQueued = true;
    this.takeConfirmBatch()();
    this.closed = true;
    this.connection.channelClosed(this);
    this.emit('close');
  }

  /** Engine crash: forget everything without touching the queues. */
  abandon(): void {
    this.closed = true;
    this.consumers.clear();
    this.unacked.clear();
  }

  protected checkOpen(): void {
    if (this.closed) throw AmqpErrors.channelClosed(this.id);
  }
}

const enum Settle {
  Ack,
  Requeue,
  Reject,
}

function tagOf(ref: DeliveryRef): number {
  if (typeof ref === 'number') return ref;
  const tag = (ref as { fields?: { deliveryTag?: unknown } } | null)?.fields?.deliveryTag;
  if (typeof tag !== 'number') throw AmqpErrors.invalidArg('message', 'must be a delivered message or a delivery tag', { argument: 'message' });
  return tag;
}
