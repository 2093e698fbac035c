/**
 * Broker-model adapter wrapper that records every call in the history and bounds it with its
 * timeout. Streams are `topic/broker/queueId` (a retry's stream is `%RETRY%group/broker/queueId`);
 * targets are CLUSTERING groups, or `group@instanceName` for BROADCASTING members. The
 * subscription is recorded at `start()`, with its tag filter and `maxReconsumeTimes + 1` as the
 * delivery limit.
 */
import type { OperationTimeouts } from '../../adapters/common';
import type { BrokerAdapter, BrokerConsumer, BrokerConsumerOptions, BrokerProducer, BrokerTopicSpec, ConsumeStatus, OutgoingMessage, ReceivedMessage, ReceiveOptions, SendOptions, SendResult, TopicRoute } from '../../adapters/broker-model';
import type { HistoryRecorder } from '../../history/recorder';
import { NameCounter, recordedAdvanceTime, recordedCall, recordedRestart } from './recorded-call';

export interface BrokerSendMeta {
  /** Targets that must receive it (groups, or group@instance for broadcast members). */
  expect?: string[];
}

export const DEFAULT_MAX_RECONSUME_TIMES = 16;

/** `*` -> []; `A || B` -> ['A', 'B']. */
export function parseTagExpression(expression: string): string[] {
  const e = expression.trim();
  if (e === '' || e === '*') return [];
  return e.split('||').map((t) => t.trim()).filter((t) => t.length > 0);
}

export class RecordingBrokerAdapter implements BrokerAdapter {
  readonly info: BrokerAdapter['info'];
  readonly names: NameCounter;

  constructor(readonly inner: BrokerAdapter, readonly recorder: HistoryRecorder, readonly timeouts: OperationTimeouts, scope = '') {
    this.info = inner.info;
    this.names = new NameCounter(scope);
  }

  private admin<T>(f: string, value: unknown, fn: () => Promise<T>, okValue?: (r: T) => unknown): Promise<T> {
    return recordedCall(this.recorder, { process: 'suite', f, value, timeoutMs: this.timeouts.admin, ...(okValue ? { okValue } : {}) }, fn);
  }

  createTopic(topic: string, spec: BrokerTopicSpec): Promise<void> {
    return this.admin('create-topic', { topic, ...spec }, () => this.inner.createTopic(topic, spec));
  }

  route(topic: string): Promise<TopicRoute> {
    return this.admin('route', { topic }, () => this.inner.route(topic), (r) => r);
  }

  queryById(topic: string, msgId: string): Promise<ReceivedMessage | null> {
    return this.admin('query-by-id', { topic, msgId }, () => this.inner.queryById(topic, msgId), (r) => (r ? { id: r.id, msgId: r.msgId } : null));
  }

  queryByKey(topic: string, key: string): Promise<ReceivedMessage[]> {
    return this.admin('query-by-key', { topic, key }, () => this.inner.queryByKey(topic, key), (r) => r.map((m) => ({ id: m.id, msgId: m.msgId })));
  }

  restartBroker(): Promise<void> {
    return recordedRestart(this.recorder, this.timeouts, this.inner);
  }

  advanceTime(ms: number): Promise<void> {
    return recordedAdvanceTime(this.recorder, this.timeouts, this.inner, ms);
  }

  async producer(options: { group: string }): Promise<RecordingBrokerProducer> {
    const name = this.names.next('p');
    const inner = await recordedCall(this.recorder, { process: name, f: 'open-producer', value: options, timeoutMs: this.timeouts.connect }, () => this.inner.producer(options));
    return new RecordingBrokerProducer(inner, name, this);
  }

  async consumer(options: BrokerConsumerOptions): Promise<RecordingBrokerConsumer> {
    const name = this.names.next(`${options.instanceName}#`);
    const inner = await recordedCall(this.recorder, { process: name, f: 'open-consumer', value: options, timeoutMs: this.timeouts.connect }, () => this.inner.consumer(options));
    return new RecordingBrokerConsumer(inner, name, options, this);
  }

  close(): Promise<void> {
    return recordedCall(this.recorder, { process: 'suite', f: 'close-adapter', value: {}, timeoutMs: this.timeouts.lifecycle }, () => this.inner.close());
  }
}

export class RecordingBrokerProducer implements BrokerProducer {
  constructor(readonly inner: BrokerProducer, readonly name: string, private readonly a: RecordingBrokerAdapter) {}

  send(message: OutgoingMessage, options?: SendOptions, meta: BrokerSendMeta = {}): Promise<SendResult> {
    const m: Record<string, unknown> = { id: message.id, topic: message.topic, key: message.keys?.[0] ?? null, tags: message.tags ?? null };
    if (message.delayLevel) m.delayed = true;
    if (meta.expect) m.expect = meta.expect;
    return recordedCall(
      this.a.recorder,
      {
        process: this.name,
        f: 'send',
        value: { messages: [m] },
        timeoutMs: this.a.timeouts.send,
        uncertain: true,
        // A delayed message is stored in the schedule queue first: its final offset is not known yet.
        okValue: (r) => ({ messages: [message.delayLevel || r.queueOffset < 0 ? { id: r.id, msgId: r.msgId } : { id: r.id, stream: `${message.topic}/${r.broker}/${r.queueId}`, offset: r.queueOffset, msgId: r.msgId }] }),
      },
      () => this.inner.send(message, options),
    );
  }

  close(): Promise<void> {
    return recordedCall(this.a.recorder, { process: this.name, f: 'close-producer', value: {}, timeoutMs: this.a.timeouts.lifecycle }, () => this.inner.close());
  }
}

export class RecordingBrokerConsumer implements BrokerConsumer {
  private readonly subscriptions: { topic: string; expression: string }[] = [];

  constructor(readonly inner: BrokerConsumer, readonly name: string, readonly options: BrokerConsumerOptions, private readonly a: RecordingBrokerAdapter) {}

  /** The target this consumer's deliveries count towards. */
  get target(): string {
    return this.options.model === 'BROADCASTING' ? `${this.options.group}@${this.options.instanceName}` : this.options.group;
  }

  private call<T>(f: string, value: unknown, timeoutMs: number, fn: () => Promise<T>, okValue?: (r: T) => unknown): Promise<T> {
    return recordedCall(this.a.recorder, { process: this.name, f, value, timeoutMs, ...(okValue ? { okValue } : {}) }, fn);
  }

  async subscribe(topic: string, expression: string): Promise<void> {
    await this.call('subscribe-call', { consumer: this.name, topic, expression }, this.a.timeouts.connect, () => this.inner.subscribe(topic, expression));
    this.subscriptions.push({ topic, expression });
  }

  async start(): Promise<void> {
    const maxDeliveries = (this.options.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES) + 1;
    // Recorded before the call: deliveries may start as soon as the consumer registers.
    for (const s of this.subscriptions) {
      this.a.recorder.observe(this.name, 'subscribe', {
        consumer: this.name,
        member: this.options.instanceName,
        group: this.options.group,
        mode: this.options.model === 'BROADCASTING' ? 'broadcast' : 'cluster',
        topic: s.topic,
        tags: parseTagExpression(s.expression),
        ack: 'manual',
        maxDeliveries,
      });
    }
    await this.call('start', { consumer: this.name }, this.a.timeouts.connect, () => this.inner.start());
  }

  receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    return this.call('poll', { consumer: this.name }, this.a.timeouts.receive + options.timeoutMs, () => this.inner.receive(options), (ms) => ({
      consumer: this.name,
      messages: ms.map((m) => {
        const retry = m.reconsumeTimes > 0;
        return { id: m.id, stream: retry ? `%RETRY%${this.options.group}/${m.broker}/${m.queueId}` : `${m.topic}/${m.broker}/${m.queueId}`, offset: m.queueOffset, retry, tags: m.tags };
      }),
    }));
  }

  async settle(message: ReceivedMessage, status: ConsumeStatus): Promise<void> {
    const f = status === 'CONSUME_SUCCESS' ? 'ack' : 'nack';
    const h = this.a.recorder.invoke(this.name, f, f === 'ack' ? { consumer: this.name, ids: [message.id] } : { consumer: this.name, ids: [message.id], requeue: true });
    try {
      await this.call('settle', { consumer: this.name, id: message.id, status }, this.a.timeouts.settle, () => this.inner.settle(message, status));
    } catch (e) {
      this.a.recorder.fail(h, null, { code: 'ERR_SETTLE', message: (e as Error).message });
      throw e;
    }
    this.a.recorder.ok(h, null);
  }

  shutdown(): Promise<void> {
    return this.call('close', { consumer: this.name }, this.a.timeouts.lifecycle, () => this.inner.shutdown());
  }

  crash(): Promise<void> {
    return this.call('crash', { consumer: this.name }, this.a.timeouts.lifecycle, () => this.inner.crash());
  }
}
