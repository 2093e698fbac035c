/**
 * Queue-model adapter wrapper that records every call in the history and bounds it with its
 * timeout. Targets are queues (competing consumers of a queue form one cluster target); streams
 * are queues. `publish` takes an optional fourth argument with the queues the suite expects the
 * message in; without it a publish to the default exchange expects the queue named by the
 * routing key, and other publishes expect nothing in particular.
 *
 * Delivery tags map back to message ids per channel, so ack / nack / reject (single or multiple)
 * are recorded with the ids they settle, under the consumer that received each delivery.
 */
import type { OperationTimeouts } from '../../adapters/common';
import type { ChannelOptions, ConsumeOptions, ExchangeOptions, ExchangeType, PublishMessage, PublishOptions, PublishResult, QueueAdapter, QueueArguments, QueueChannel, QueueDelivery } from '../../adapters/queue-model';
import type { HistoryRecorder } from '../../history/recorder';
import { NameCounter, recordedAdvanceTime, recordedCall, recordedRestart } from './recorded-call';

export interface PublishMeta {
  /** Queues that must receive it. */
  expect?: string[];
  /** The suite routes it nowhere. */
  unroutable?: boolean;
}

export class RecordingQueueAdapter implements QueueAdapter {
  readonly info: QueueAdapter['info'];
  readonly names: NameCounter;
  /** queue -> total deliveries allowed (delivery limit + 1). */
  readonly maxDeliveries = new Map<string, number>();

  constructor(readonly inner: QueueAdapter, readonly recorder: HistoryRecorder, readonly timeouts: OperationTimeouts, scope = '') {
    this.info = inner.info;
    this.names = new NameCounter(scope);
  }

  async openChannel(options: ChannelOptions = {}): Promise<RecordingQueueChannel> {
    const name = this.names.next('ch');
    const inner = await recordedCall(this.recorder, { process: name, f: 'open-channel', value: options, timeoutMs: this.timeouts.connect }, () => this.inner.openChannel(options));
    return new RecordingQueueChannel(inner, name, this);
  }

  restartBroker(): Promise<void> {
    return recordedRestart(this.recorder, this.timeouts, this.inner);
  }

  advanceTime(ms: number): Promise<void> {
    return recordedAdvanceTime(this.recorder, this.timeouts, this.inner, ms);
  }

  close(): Promise<void> {
    return recordedCall(this.recorder, { process: 'suite', f: 'close-adapter', value: {}, timeoutMs: this.timeouts.lifecycle }, () => this.inner.close());
  }
}

interface Outstanding {
  id: string;
  consumer: string;
}

export class RecordingQueueChannel implements QueueChannel {
  /** delivery tag -> who holds which message, until settled. */
  private readonly outstanding = new Map<number, Outstanding>();
  /** consumers (push and pull) that received through this channel. */
  private readonly consumers = new Set<string>();
  private readonly pullSubscribed = new Set<string>();

  constructor(readonly inner: QueueChannel, readonly name: string, private readonly a: RecordingQueueAdapter) {}

  private call<T>(f: string, value: unknown, timeoutMs: number, fn: () => Promise<T>, okValue?: (r: T) => unknown, uncertain = false): Promise<T> {
    return recordedCall(this.a.recorder, { process: this.name, f, value, timeoutMs, uncertain, ...(okValue ? { okValue } : {}) }, fn);
  }

  assertExchange(name: string, type: ExchangeType, options?: ExchangeOptions): Promise<void> {
    return this.call('assert-exchange', { name, type, ...options }, this.a.timeouts.admin, () => this.inner.assertExchange(name, type, options));
  }

  async assertQueue(name: string, args?: QueueArguments): Promise<void> {
    await this.call('assert-queue', { name, ...args }, this.a.timeouts.admin, () => this.inner.assertQueue(name, args));
    if (args?.deliveryLimit !== undefined) this.a.maxDeliveries.set(name, args.deliveryLimit + 1);
  }

  deleteQueue(name: string): Promise<void> {
    return this.call('delete-queue', { name }, this.a.timeouts.admin, () => this.inner.deleteQueue(name));
  }

  deleteExchange(name: string): Promise<void> {
    return this.call('delete-exchange', { name }, this.a.timeouts.admin, () => this.inner.deleteExchange(name));
  }

  purgeQueue(name: string): Promise<number> {
    return this.call('purge-queue', { name }, this.a.timeouts.admin, () => this.inner.purgeQueue(name), (n) => ({ removed: n }));
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    return this.call('bind-queue', { queue, exchange, routingKey, args }, this.a.timeouts.admin, () => this.inner.bindQueue(queue, exchange, routingKey, args));
  }

  unbindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    return this.call('unbind-queue', { queue, exchange, routingKey, args }, this.a.timeouts.admin, () => this.inner.unbindQueue(queue, exchange, routingKey, args));
  }

  checkQueue(name: string): Promise<{ messageCount: number; consumerCount: number }> {
    return this.call('check-queue', { name }, this.a.timeouts.admin, () => this.inner.checkQueue(name), (r) => r);
  }

  publish(exchange: string, routingKey: string, message: PublishMessage, options?: PublishOptions, meta: PublishMeta = {}): Promise<PublishResult> {
    const m: Record<string, unknown> = { id: message.id, topic: exchange === '' ? `(default)/${routingKey}` : exchange, key: routingKey };
    const expect = meta.expect ?? (exchange === '' && !meta.unroutable ? [routingKey] : undefined);
    if (expect) m.expect = expect;
    if (meta.unroutable) m.unroutable = true;
    return this.call(
      'send',
      { messages: [m] },
      this.a.timeouts.send,
      () => this.inner.publish(exchange, routingKey, message, options),
      (r) => ({ messages: [{ id: r.id, returned: r.returned, nacked: r.confirmed === false, ...(r.confirmed === null ? { unconfirmed: true } : {}) }] }),
      true,
    );
  }

  prefetch(count: number): Promise<void> {
    return this.call('prefetch', { count }, this.a.timeouts.settle, () => this.inner.prefetch(count));
  }

  private subscribeRecord(consumer: string, queue: string, noAck: boolean): void {
    this.consumers.add(consumer);
    const sub: Record<string, unknown> = { consumer, group: queue, mode: 'cluster', topic: queue, ack: noAck ? 'auto' : 'manual' };
    const max = this.a.maxDeliveries.get(queue);
    if (max !== undefined) sub.maxDeliveries = max;
    this.a.recorder.observe(consumer, 'subscribe', sub);
  }

  private delivered(consumer: string, d: QueueDelivery, noAck: boolean): void {
    if (!noAck) this.outstanding.set(d.deliveryTag, { id: d.id, consumer });
    const m: Record<string, unknown> = { id: d.id, stream: d.queue, redelivered: d.redelivered };
    if (noAck) m.autoAck = true;
    this.a.recorder.observe(consumer, 'poll', { consumer, messages: [m] });
  }

  async consume(queue: string, onDelivery: (delivery: QueueDelivery) => void, options: ConsumeOptions = {}): Promise<{ consumerTag: string }> {
    const consumer = `${this.name}/${options.consumerTag ?? this.a.names.next('ctag')}`;
    const noAck = options.noAck === true;
    this.subscribeRecord(consumer, queue, noAck);
    return this.call('consume', { consumer, queue, ...options }, this.a.timeouts.connect, () =>
      this.inner.consume(
        queue,
        (d) => {
          this.delivered(consumer, d, noAck);
          onDelivery(d);
        },
        options,
      ),
    (r) => r);
  }

  cancel(consumerTag: string): Promise<void> {
    return this.call('cancel', { consumerTag }, this.a.timeouts.settle, () => this.inner.cancel(consumerTag));
  }

  async get(queue: string, options: { noAck?: boolean } = {}): Promise<QueueDelivery | null> {
    // One pull consumer per (channel, queue): its deliveries count towards that queue.
    const consumer = `${this.name}/get/${queue}`;
    const noAck = options.noAck === true;
    if (!this.pullSubscribed.has(queue)) {
      this.pullSubscribed.add(queue);
      this.subscribeRecord(consumer, queue, false);
    }
    const d = await this.call('get', { consumer, queue, noAck }, this.a.timeouts.receive, () => this.inner.get(queue, options));
    if (d) this.delivered(consumer, d, noAck);
    return d;
  }

  /** The outstanding deliveries a (multiple) settle covers, grouped by consumer. */
  private covered(tag: number, multiple: boolean): Map<string, string[]> {
    const by = new Map<string, string[]>();
    const add = (t: number) => {
      const o = this.outstanding.get(t);
      if (!o) return;
      this.outstanding.delete(t);
      const ids = by.get(o.consumer);
      if (ids) ids.push(o.id);
      else by.set(o.consumer, [o.id]);
    };
    if (multiple) for (const t of [...this.outstanding.keys()].filter((t) => t <= tag)) add(t);
    else add(tag);
    return by;
  }

  private async settle(f: 'ack' | 'nack', tag: number, multiple: boolean, requeue: boolean, fn: () => Promise<void>): Promise<void> {
    // The settle is recorded before the call: a requeued message may be redelivered before the call returns.
    const by = this.covered(tag, multiple);
    const handles = [...by].map(([consumer, ids]) => this.a.recorder.invoke(consumer, f, f === 'ack' ? { consumer, ids } : { consumer, ids, requeue }));
    try {
      await this.call(`${f}-call`, { tag, multiple, requeue }, this.a.timeouts.settle, fn);
    } catch (e) {
      for (const h of handles) this.a.recorder.fail(h, null, { code: 'ERR_SETTLE', message: (e as Error).message });
      throw e;
    }
    for (const h of handles) this.a.recorder.ok(h, null);
  }

  ack(deliveryTag: number, multiple = false): Promise<void> {
    return this.settle('ack', deliveryTag, multiple, false, () => this.inner.ack(deliveryTag, multiple));
  }

  nack(deliveryTag: number, options: { multiple?: boolean; requeue?: boolean } = {}): Promise<void> {
    return this.settle('nack', deliveryTag, options.multiple === true, options.requeue !== false, () => this.inner.nack(deliveryTag, options));
  }

  reject(deliveryTag: number, requeue = true): Promise<void> {
    return this.settle('nack', deliveryTag, false, requeue, () => this.inner.reject(deliveryTag, requeue));
  }

  private exit(f: 'close' | 'crash', fn: () => Promise<void>): Promise<void> {
    for (const consumer of this.consumers) this.a.recorder.ok(this.a.recorder.invoke(consumer, f, { consumer }), null);
    this.outstanding.clear();
    return this.call(`${f}-channel`, {}, this.a.timeouts.lifecycle, fn);
  }

  close(): Promise<void> {
    return this.exit('close', () => this.inner.close());
  }

  crash(): Promise<void> {
    return this.exit('crash', () => this.inner.crash());
  }
}
