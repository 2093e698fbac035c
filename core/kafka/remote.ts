import type { MessagePort } from 'node:worker_threads';
import { connectRpc, type Remote, type RpcClientControls } from '../threads';
import type { KafkaWorkerHost, PackedRecords } from './worker-host';
import type { ConsumerOptions } from './consumer';
import type { CreateTopicOptions } from './engine';
import type { Acks, ConsumerRecord, ProducerRecord, RecordMetadata, TopicPartition, TopicPartitionOffset } from './types';

/**
 * The Kafka engine seen from a worker thread: the same producer / consumer API as in process,
 * every call async, carried over a MessagePort served by `serveKafka` on the engine's thread.
 *
 *   main:   const { port1, port2 } = new MessageChannel(); serveKafka(engine, port1);
 *           new Worker(file, { workerData: { port: port2 }, transferList: [port2] });
 *   worker: const kafka = connectKafka(workerData.port);
 *           await kafka.producer({ acks: 1 }).send({ topic, messages });
 */
export class RemoteKafka {
  private readonly host: Remote<KafkaWorkerHost> & { $rpc: RpcClientControls };

  constructor(port: MessagePort) {
    this.host = connectRpc<KafkaWorkerHost>(port, { timeoutMs: 0 });
  }

  createTopic(name: string, options?: CreateTopicOptions): Promise<void> {
    return this.host.createTopic(name, options);
  }
  listTopics(): Promise<string[]> {
    return this.host.listTopics();
  }

  producer(options: { acks?: Acks } = {}): RemoteProducer {
    return new RemoteProducer(this.host, options.acks ?? 1);
  }

  async consumer(options: ConsumerOptions = {}): Promise<RemoteConsumer> {
    return new RemoteConsumer(this.host, await this.host.openConsumer(options));
  }

  close(): void {
    this.host.$rpc.close();
  }
}

export class RemoteProducer {
  constructor(private readonly host: Remote<KafkaWorkerHost>, private readonly acks: Acks) {}

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.host.send(record, this.acks);
  }

  /** `count` values of `size` bytes back to back in `data`: one message crosses the threads. */
  sendFixed(topic: string, data: Uint8Array, count: number, size: number, keys?: ReadonlyArray<string | undefined>): Promise<RecordMetadata[]> {
    return this.host.sendFixed(topic, data, count, size, keys, this.acks);
  }
}

export class RemoteConsumer {
  constructor(private readonly host: Remote<KafkaWorkerHost>, readonly handle: number) {}

  subscribe(topics: string | string[]): Promise<void> {
    return this.host.subscribe(this.handle, typeof topics === 'string' ? [topics] : topics);
  }
  assign(partitions: TopicPartition[]): Promise<void> {
    return this.host.assign(this.handle, partitions);
  }
  assignment(): Promise<TopicPartition[]> {
    return this.host.assignment(this.handle);
  }
  /** Records as in process, except that key, value and header values arrive as Uint8Array. */
  poll(timeoutMs = 0, maxRecords?: number): Promise<ConsumerRecord[]> {
    return this.host.poll(this.handle, timeoutMs, maxRecords);
  }
  /** Values and columns only (see PackedRecords): the lean path for high rates. */
  pollPacked(timeoutMs = 0, maxRecords?: number): Promise<PackedRecords> {
    return this.host.pollPacked(this.handle, timeoutMs, maxRecords);
  }
  commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    return this.host.commit(this.handle, offsets);
  }
  committed(tp: TopicPartition): Promise<number | null> {
    return this.host.committed(this.handle, tp);
  }
  position(tp: TopicPartition): Promise<number> {
    return this.host.position(this.handle, tp);
  }
  seek(tpo: TopicPartitionOffset): Promise<void> {
    return this.host.seek(this.handle, tpo);
  }
  offsetsForTimes(query: Array<TopicPartition & { timestamp: number }>) {
    return this.host.offsetsForTimes(this.handle, query);
  }
  close(): Promise<void> {
    return this.host.closeConsumer(this.handle);
  }
}

export function connectKafka(port: MessagePort): RemoteKafka {
  return new RemoteKafka(port);
}
