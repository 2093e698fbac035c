/**
 * A log-model adapter that wraps a correct one (the in-memory example) and breaks one rule, to
 * prove the suites notice. Faults:
 *  - drop:            poll silently drops some records            -> lost, poll-skip
 *  - duplicate:       poll returns some records twice              -> duplicate
 *  - reorder:         poll swaps adjacent records of a partition   -> reorder, non-monotonic-offset
 *  - forget-commits:  commit() does nothing                        -> duplicate (after-commit)
 *  - lose-writes:     send acks some records it never stores       -> lost
 *  - rewind:          after a rejoin, resume before the commit     -> duplicate (after-commit)
 */
import type { AdapterOptions } from '../adapters/common';
import type { ConsumedRecord, ConsumerOptions, LogAdapter, LogConsumer, LogProducer, PollOptions, ProduceRecord, ProduceResult, ProducerOptions, TopicPartitionOffset } from '../adapters/log-model';
import { MemoryLogAdapter } from '../adapters/memory/kafka';
import { faultOf, hits } from './fault-plan';

export const KAFKA_FAULTS = ['drop', 'duplicate', 'reorder', 'forget-commits', 'lose-writes'] as const;
export type KafkaFault = (typeof KAFKA_FAULTS)[number];

function corrupt(fault: KafkaFault, rs: ConsumedRecord[]): ConsumedRecord[] {
  switch (fault) {
    case 'drop':
      return rs.filter((r) => !hits(r.id, 7));
    case 'duplicate':
      return rs.flatMap((r) => (hits(r.id, 5) ? [r, r] : [r]));
    case 'reorder': {
      const out = [...rs];
      for (let i = 0; i + 1 < out.length; i++) {
        if (out[i]!.partition === out[i + 1]!.partition && hits(out[i]!.id, 4)) {
          [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
          i++;
        }
      }
      return out;
    }
    default:
      return rs;
  }
}

class FaultyConsumer implements LogConsumer {
  constructor(private readonly inner: LogConsumer, private readonly fault: KafkaFault) {}
  subscribe(topics: readonly string[]) {
    return this.inner.subscribe(topics);
  }
  async poll(options: PollOptions) {
    return corrupt(this.fault, await this.inner.poll(options));
  }
  assignment() {
    return this.inner.assignment();
  }
  async commit(offsets?: readonly TopicPartitionOffset[]) {
    if (this.fault === 'forget-commits') return;
    await this.inner.commit(offsets);
  }
  committed(partitions: Parameters<LogConsumer['committed']>[0]) {
    return this.inner.committed(partitions);
  }
  seek(target: TopicPartitionOffset) {
    return this.inner.seek(target);
  }
  offsetsForTime(topic: string, timestamp: number) {
    return this.inner.offsetsForTime(topic, timestamp);
  }
  close() {
    return this.inner.close();
  }
  crash() {
    return this.inner.crash();
  }
}

class FaultyProducer implements LogProducer {
  constructor(private readonly inner: LogProducer, private readonly fault: KafkaFault) {}
  async send(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    if (this.fault !== 'lose-writes') return this.inner.send(topic, records);
    const kept = records.filter((r) => !hits(r.id, 9));
    const stored = kept.length > 0 ? await this.inner.send(topic, kept) : [];
    const byId = new Map(stored.map((r) => [r.id, r]));
    // Claim success for the lost ones too, at a made-up position.
    return records.map((r) => byId.get(r.id) ?? { id: r.id, topic, partition: 0, offset: null, timestamp: Date.now() });
  }
  close() {
    return this.inner.close();
  }
}

export function createAdapter(options: AdapterOptions): LogAdapter {
  const fault = faultOf(options, KAFKA_FAULTS);
  const inner = new MemoryLogAdapter();
  return {
    info: { ...inner.info, name: `faulty(${fault}) in-memory log adapter` },
    createTopic: (t, s) => inner.createTopic(t, s),
    deleteTopic: (t) => inner.deleteTopic(t),
    offsets: (t) => inner.offsets(t),
    producer: async (o: ProducerOptions) => new FaultyProducer(await inner.producer(o), fault),
    consumer: async (o: ConsumerOptions) => new FaultyConsumer(await inner.consumer(o), fault),
    advanceTime: (ms) => inner.advanceTime(ms),
    close: () => inner.close(),
  };
}
