/**
 * Worker-thread support for the in-memory log adapter. The log lives in the main thread; a
 * worker reaches it through a MessagePort (core/threads RPC): `serveLogHost` exposes producers
 * and consumers by number, and this module's `createAdapter` (what a worker imports, per
 * `workerSpec()`) returns a log adapter whose producers and consumers call through the port.
 * Admin and the lifecycle hooks stay on the main thread.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MqlabError } from '../../../core/errors';
import { connectRpc, serveRpc } from '../../../core/threads';
import type { AdapterOptions, WorkerSpec } from '../common';
import type { ConsumedRecord, ConsumerOptions, LogAdapter, LogConsumer, PollOptions, ProduceRecord, ProduceResult, TopicPartition, TopicPartitionOffset } from '../log-model';

/** What the main thread serves: the adapter's producers and consumers, by number. */
export interface LogHost {
  send(topic: string, records: ProduceRecord[]): Promise<ProduceResult[]>;
  openConsumer(options: ConsumerOptions): Promise<number>;
  subscribe(id: number, topics: string[]): Promise<void>;
  poll(id: number, options: PollOptions): Promise<ConsumedRecord[]>;
  assignment(id: number): Promise<TopicPartition[]>;
  commit(id: number, offsets?: TopicPartitionOffset[]): Promise<void>;
  committed(id: number, partitions: TopicPartition[]): Promise<{ topic: string; partition: number; offset: number | null }[]>;
  seek(id: number, target: TopicPartitionOffset): Promise<void>;
  offsetsForTime(id: number, topic: string, timestamp: number): Promise<{ partition: number; offset: number | null }[]>;
  closeConsumer(id: number): Promise<void>;
}

/** Serves `adapter` on a fresh port; returns the spec a worker re-creates the adapter from. */
export function logWorkerSpec(adapter: Pick<LogAdapter, 'producer' | 'consumer'>, servers: { close(): void }[]): WorkerSpec {
  const consumers = new Map<number, LogConsumer>();
  let next = 0;
  const of = (id: number): LogConsumer => {
    const c = consumers.get(id);
    if (!c) throw new MqlabError('ERR_INVALID_ARG', `no consumer ${id}`);
    return c;
  };
  const host: LogHost = {
    send: async (topic, records) => (await adapter.producer({ acks: 'all' })).send(topic, records),
    openConsumer: async (options) => {
      consumers.set(++next, await adapter.consumer(options));
      return next;
    },
    subscribe: (id, topics) => of(id).subscribe(topics),
    poll: (id, options) => of(id).poll(options),
    assignment: (id) => of(id).assignment(),
    commit: (id, offsets) => of(id).commit(offsets),
    committed: (id, partitions) => of(id).committed(partitions),
    seek: (id, target) => of(id).seek(target),
    offsetsForTime: (id, topic, ts) => of(id).offsetsForTime(topic, ts),
    closeConsumer: async (id) => {
      const c = consumers.get(id);
      consumers.delete(id);
      await c?.close();
    },
  };
  const { port1, port2 } = new MessageChannel();
  servers.push(serveRpc(port1, host));
  return { modulePath: __filename, options: {}, data: { port: port2 }, transferList: [port2] };
}

function mainThreadOnly(what: string): Promise<never> {
  return Promise.reject(new MqlabError('ERR_UNSUPPORTED', `${what} runs on the main thread's adapter`));
}

/** The worker side: producers and consumers through the port. */
export function createAdapter(options: AdapterOptions): LogAdapter {
  const port = (options.worker?.data as { port?: MessagePort } | undefined)?.port;
  if (!port) throw new MqlabError('ERR_ADAPTER', 'kafka-threads.ts is the worker side of the in-memory log adapter: use --adapter memory');
  const host = connectRpc<LogHost>(port);
  return {
    info: { model: 'kafka', name: 'in-memory example log adapter (worker thread)', guarantee: 'at-least-once', capabilities: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset'] },
    createTopic: () => mainThreadOnly('createTopic'),
    deleteTopic: () => mainThreadOnly('deleteTopic'),
    offsets: () => mainThreadOnly('offsets'),
    producer: async () => ({ send: (topic, records) => host.send(topic, [...records]), close: async () => undefined }),
    consumer: async (o) => {
      const id = await host.openConsumer(o);
      return {
        subscribe: (topics) => host.subscribe(id, [...topics]),
        poll: (p) => host.poll(id, p),
        assignment: () => host.assignment(id),
        commit: (offsets) => host.commit(id, offsets ? [...offsets] : undefined),
        committed: (ps) => host.committed(id, [...ps]),
        seek: (t) => host.seek(id, t),
        offsetsForTime: (topic, ts) => host.offsetsForTime(id, topic, ts),
        close: () => host.closeConsumer(id),
        crash: () => mainThreadOnly('crash'),
      };
    },
    close: async () => port.close(),
  };
}
