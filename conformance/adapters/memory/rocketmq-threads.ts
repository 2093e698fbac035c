/**
 * Worker-thread support for the in-memory broker adapter, as kafka-threads.ts is for the log
 * adapter: the brokers live in the main thread, `serveBrokerHost` exposes producers and
 * consumers by number over a MessagePort (core/threads RPC), and this module's `createAdapter`
 * (what a worker imports, per `workerSpec()`) calls through it. Admin, queries and the
 * lifecycle hooks stay on the main thread.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MqlabError } from '../../../core/errors';
import { connectRpc, serveRpc } from '../../../core/threads';
import type { BrokerAdapter, BrokerConsumer, BrokerConsumerOptions, ConsumeStatus, OutgoingMessage, ReceiveOptions, ReceivedMessage, SendOptions, SendResult } from '../broker-model';
import type { AdapterOptions, WorkerSpec } from '../common';

/** What the main thread serves: producers and consumers, by number. */
export interface BrokerHost {
  send(group: string, message: OutgoingMessage, options: SendOptions): Promise<SendResult>;
  openConsumer(options: BrokerConsumerOptions): Promise<number>;
  subscribe(id: number, topic: string, expression: string): Promise<void>;
  start(id: number): Promise<void>;
  receive(id: number, options: ReceiveOptions): Promise<ReceivedMessage[]>;
  settle(id: number, message: ReceivedMessage, status: ConsumeStatus): Promise<void>;
  shutdown(id: number): Promise<void>;
}

export function brokerWorkerSpec(adapter: Pick<BrokerAdapter, 'producer' | 'consumer'>, servers: { close(): void }[]): WorkerSpec {
  const consumers = new Map<number, BrokerConsumer>();
  let next = 0;
  const of = (id: number): BrokerConsumer => {
    const c = consumers.get(id);
    if (!c) throw new MqlabError('ERR_INVALID_ARG', `no consumer ${id}`);
    return c;
  };
  const host: BrokerHost = {
    send: async (group, message, options) => (await adapter.producer({ group })).send(message, options),
    openConsumer: async (options) => {
      consumers.set(++next, await adapter.consumer(options));
      return next;
    },
    subscribe: (id, topic, expression) => of(id).subscribe(topic, expression),
    start: (id) => of(id).start(),
    receive: (id, options) => of(id).receive(options),
    settle: (id, message, status) => of(id).settle(message, status),
    shutdown: async (id) => {
      const c = consumers.get(id);
      consumers.delete(id);
      await c?.shutdown();
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
export function createAdapter(options: AdapterOptions): BrokerAdapter {
  const port = (options.worker?.data as { port?: MessagePort } | undefined)?.port;
  if (!port) throw new MqlabError('ERR_ADAPTER', 'rocketmq-threads.ts is the worker side of the in-memory broker adapter: use --adapter memory');
  const host = connectRpc<BrokerHost>(port);
  return {
    info: { model: 'rocketmq', name: 'in-memory example broker adapter (worker thread)', guarantee: 'at-least-once', capabilities: ['clustering', 'consume-from'] },
    createTopic: () => mainThreadOnly('createTopic'),
    route: () => mainThreadOnly('route'),
    queryById: () => mainThreadOnly('queryById'),
    queryByKey: () => mainThreadOnly('queryByKey'),
    producer: async ({ group }) => ({ send: (m, o) => host.send(group, m, o ?? {}), close: async () => undefined }),
    consumer: async (o) => {
      const id = await host.openConsumer(o);
      return {
        subscribe: (topic, expression) => host.subscribe(id, topic, expression),
        start: () => host.start(id),
        receive: (r) => host.receive(id, r),
        settle: (m, s) => host.settle(id, m, s),
        shutdown: () => host.shutdown(id),
        crash: () => mainThreadOnly('crash'),
      };
    },
    close: async () => port.close(),
  };
}
