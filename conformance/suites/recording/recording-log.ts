/**
 * Log-model adapter wrapper that records every call in the history (see history/ops.ts) and
 * bounds each call with its timeout. Suites use it exactly like a LogAdapter; `send` takes an
 * optional third argument with what the checker should expect of the records.
 *
 * Streams are `topic/partition`; targets are consumer groups; commits are recorded with the
 * explicit offsets the wrapper passes to the adapter (a bare `commit()` is turned into the
 * positions after the last records each partition returned).
 */
import type { OperationTimeouts } from '../../adapters/common';
import type { ConsumedRecord, ConsumerOptions, LogAdapter, LogConsumer, LogProducer, PollOptions, ProduceRecord, ProduceResult, ProducerOptions, TopicPartition, TopicPartitionOffset, TopicSpec } from '../../adapters/log-model';
import type { HistoryRecorder } from '../../history/recorder';
import { NameCounter, recordedAdvanceTime, recordedCall, recordedRestart } from './recorded-call';

export interface SendMeta {
  expect?: string[];
  mayLose?: boolean;
}

export const streamOf = (topic: string, partition: number): string => `${topic}/${partition}`;

export class RecordingLogAdapter implements LogAdapter {
  readonly info: LogAdapter['info'];
  private readonly names: NameCounter;

  constructor(readonly inner: LogAdapter, readonly recorder: HistoryRecorder, readonly timeouts: OperationTimeouts, scope = '') {
    this.info = inner.info;
    this.names = new NameCounter(scope);
  }

  private admin<T>(f: string, value: unknown, fn: () => Promise<T>, okValue?: (r: T) => unknown): Promise<T> {
    const spec = { process: 'suite', f, value, timeoutMs: this.timeouts.admin, ...(okValue ? { okValue } : {}) };
    return recordedCall(this.recorder, spec, fn);
  }

  createTopic(topic: string, spec: TopicSpec): Promise<void> {
    return this.admin('create-topic', { topic, ...spec }, () => this.inner.createTopic(topic, spec));
  }

  deleteTopic(topic: string): Promise<void> {
    return this.admin('delete-topic', { topic }, () => this.inner.deleteTopic(topic));
  }

  offsets(topic: string): Promise<{ partition: number; start: number; end: number }[]> {
    return this.admin('offsets', { topic }, () => this.inner.offsets(topic), (r) => r);
  }

  restartBroker(): Promise<void> {
    return recordedRestart(this.recorder, this.timeouts, this.inner);
  }

  advanceTime(ms: number): Promise<void> {
    return recordedAdvanceTime(this.recorder, this.timeouts, this.inner, ms);
  }

  async producer(options: ProducerOptions): Promise<RecordingLogProducer> {
    const name = options.clientId ?? this.names.next('p');
    const inner = await recordedCall(this.recorder, { process: name, f: 'open-producer', value: options, timeoutMs: this.timeouts.connect }, () => this.inner.producer(options));
    return new RecordingLogProducer(inner, name, options, this);
  }

  async consumer(options: ConsumerOptions): Promise<RecordingLogConsumer> {
    const name = this.names.next(`${options.clientId ?? 'c'}#`);
    const inner = await recordedCall(this.recorder, { process: name, f: 'open-consumer', value: options, timeoutMs: this.timeouts.connect }, () => this.inner.consumer(options));
    return new RecordingLogConsumer(inner, name, options, this);
  }

  close(): Promise<void> {
    return this.admin('close-adapter', {}, () => this.inner.close());
  }
}

export class RecordingLogProducer implements LogProducer {
  constructor(readonly inner: LogProducer, readonly name: string, readonly options: ProducerOptions, private readonly a: RecordingLogAdapter) {}

  send(topic: string, records: readonly ProduceRecord[], meta: SendMeta = {}): Promise<ProduceResult[]> {
    const mayLose = meta.mayLose ?? this.options.acks === 0;
    const messages = records.map((r) => {
      const m: Record<string, unknown> = { id: r.id, topic, key: r.key ?? null };
      if (meta.expect) m.expect = meta.expect;
      if (mayLose) m.mayLose = true;
      return m;
    });
    return recordedCall(
      this.a.recorder,
      {
        process: this.name,
        f: 'send',
        value: { messages },
        timeoutMs: this.a.timeouts.send,
        uncertain: true,
        // acks 0: resolved without a broker acknowledgement, so it orders nothing across producers.
        okValue: (rs) => ({ messages: rs.map((r) => ({ id: r.id, stream: streamOf(r.topic, r.partition), offset: r.offset, ...(this.options.acks === 0 ? { unconfirmed: true } : {}) })) }),
      },
      () => this.inner.send(topic, records),
    );
  }

  close(): Promise<void> {
    return recordedCall(this.a.recorder, { process: this.name, f: 'close-producer', value: {}, timeoutMs: this.a.timeouts.lifecycle }, () => this.inner.close());
  }
}

export class RecordingLogConsumer implements LogConsumer {
  /** Position after the last record returned, per stream: what a bare commit() commits. */
  private readonly positions = new Map<string, TopicPartitionOffset>();
  readonly group: string;
  readonly member: string;

  constructor(readonly inner: LogConsumer, readonly name: string, readonly options: ConsumerOptions, private readonly a: RecordingLogAdapter) {
    this.group = options.groupId;
    this.member = options.clientId ?? name;
  }

  /** The target this consumer's deliveries count towards (its group). */
  get target(): string {
    return this.group;
  }

  private call<T>(f: string, value: unknown, timeoutMs: number, fn: () => Promise<T>, okValue?: (r: T) => unknown): Promise<T> {
    return recordedCall(this.a.recorder, { process: this.name, f, value, timeoutMs, ...(okValue ? { okValue } : {}) }, fn);
  }

  async subscribe(topics: readonly string[]): Promise<void> {
    await this.call('subscribe-call', { consumer: this.name, topics }, this.a.timeouts.connect, () => this.inner.subscribe(topics));
    for (const topic of topics) {
      this.a.recorder.observe(this.name, 'subscribe', { consumer: this.name, member: this.member, group: this.group, mode: 'cluster', topic, ack: 'offset' });
    }
  }

  async poll(options: PollOptions): Promise<ConsumedRecord[]> {
    const records = await this.call('poll', { consumer: this.name }, this.a.timeouts.receive + options.timeoutMs, () => this.inner.poll(options), (rs) => ({
      consumer: this.name,
      messages: rs.map((r) => ({ id: r.id, stream: streamOf(r.topic, r.partition), offset: r.offset })),
    }));
    for (const r of records) this.positions.set(streamOf(r.topic, r.partition), { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    return records;
  }

  assignment(): Promise<TopicPartition[]> {
    return this.call('assignment', { consumer: this.name }, this.a.timeouts.settle, () => this.inner.assignment(), (r) => ({ consumer: this.name, partitions: r }));
  }

  commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    const explicit = offsets ?? [...this.positions.values()];
    return this.call('commit', { consumer: this.name, group: this.group }, this.a.timeouts.settle, () => this.inner.commit(explicit), () => ({
      consumer: this.name,
      group: this.group,
      offsets: explicit.map((o) => ({ stream: streamOf(o.topic, o.partition), offset: o.offset })),
    }));
  }

  committed(partitions: readonly TopicPartition[]): Promise<{ topic: string; partition: number; offset: number | null }[]> {
    return this.call('committed', { consumer: this.name, partitions }, this.a.timeouts.settle, () => this.inner.committed(partitions), (r) => r);
  }

  async seek(target: TopicPartitionOffset): Promise<void> {
    await this.call('seek', { consumer: this.name, group: this.group, stream: streamOf(target.topic, target.partition), offset: target.offset }, this.a.timeouts.settle, () => this.inner.seek(target), () => ({
      consumer: this.name,
      group: this.group,
      stream: streamOf(target.topic, target.partition),
      offset: target.offset,
    }));
    this.positions.delete(streamOf(target.topic, target.partition));
  }

  offsetsForTime(topic: string, timestamp: number): Promise<{ partition: number; offset: number | null }[]> {
    return this.call('offsets-for-time', { consumer: this.name, topic, timestamp }, this.a.timeouts.settle, () => this.inner.offsetsForTime(topic, timestamp), (r) => r);
  }

  close(): Promise<void> {
    return this.call('close', { consumer: this.name }, this.a.timeouts.lifecycle, () => this.inner.close());
  }

  crash(): Promise<void> {
    return this.call('crash', { consumer: this.name }, this.a.timeouts.lifecycle, () => this.inner.crash());
  }
}
