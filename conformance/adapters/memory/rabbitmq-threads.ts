/**
 * Worker-thread support for the in-memory queue adapter, as kafka-threads.ts is for the log
 * adapter: the broker lives in the main thread; `queueWorkerSpec` serves its channels by number
 * over a MessagePort (core/threads RPC), pushing a consumer's deliveries to the worker as events
 * (`delivery:<channel>`), and this module's `createAdapter` (what a worker imports, per
 * `workerSpec()`) calls through it. Lifecycle hooks stay on the main thread.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MqlabError } from '../../../core/errors';
import { connectRpc, serveRpc, type RpcServer } from '../../../core/threads';
import type { AdapterOptions, WorkerSpec } from '../common';
import type { ChannelOptions, ConsumeOptions, QueueAdapter, QueueChannel, QueueDelivery } from '../queue-model';

/** Channel methods the worker calls by name (consume goes through `consume` and events). */
type PlainMethod = Exclude<keyof QueueChannel, 'consume'>;
const PLAIN: readonly PlainMethod[] = ['assertExchange', 'assertQueue', 'deleteQueue', 'deleteExchange', 'purgeQueue', 'bindQueue', 'unbindQueue', 'checkQueue', 'publish', 'prefetch', 'cancel', 'get', 'ack', 'nack', 'reject', 'close', 'crash'];

export interface QueueHost {
  openChannel(options: ChannelOptions): Promise<number>;
  call(id: number, method: PlainMethod, args: unknown[]): Promise<unknown>;
  consume(id: number, queue: string, options: ConsumeOptions): Promise<{ consumerTag: string }>;
}

export function queueWorkerSpec(adapter: Pick<QueueAdapter, 'openChannel'>, servers: { close(): void }[]): WorkerSpec {
  const channels = new Map<number, QueueChannel>();
  let next = 0;
  let server: RpcServer | null = null;
  const of = (id: number): QueueChannel => {
    const c = channels.get(id);
    if (!c) throw new MqlabError('ERR_INVALID_ARG', `no channel ${id}`);
    return c;
  };
  const host: QueueHost = {
    openChannel: async (options) => {
      channels.set(++next, await adapter.openChannel(options));
      return next;
    },
    call: async (id, method, args) => {
      if (!PLAIN.includes(method)) throw new MqlabError('ERR_INVALID_ARG', `no channel method ${String(method)}`);
      const ch = of(id);
      const r = await (ch[method] as (...a: unknown[]) => Promise<unknown>).apply(ch, args);
      if (method === 'close' || method === 'crash') channels.delete(id);
      return r;
    },
    consume: (id, queue, options) => of(id).consume(queue, (d) => server?.emit(`delivery:${id}`, d), options),
  };
  const { port1, port2 } = new MessageChannel();
  server = serveRpc(port1, host);
  servers.push(server);
  return { modulePath: __filename, options: {}, data: { port: port2 }, transferList: [port2] };
}

/** The worker side: channels through the port. */
export function createAdapter(options: AdapterOptions): QueueAdapter {
  const port = (options.worker?.data as { port?: MessagePort } | undefined)?.port;
  if (!port) throw new MqlabError('ERR_ADAPTER', 'rabbitmq-threads.ts is the worker side of the in-memory queue adapter: use --adapter memory');
  const host = connectRpc<QueueHost>(port);
  return {
    info: { model: 'rabbitmq', name: 'in-memory example queue adapter (worker thread)', guarantee: 'at-least-once', capabilities: ['publisher-confirms'] },
    openChannel: async (o) => {
      const id = await host.openChannel(o ?? {});
      const ch = {} as Record<string, unknown>;
      for (const m of PLAIN) ch[m] = (...args: unknown[]) => host.call(id, m, args);
      ch.consume = async (queue: string, onDelivery: (d: QueueDelivery) => void, co?: ConsumeOptions) => {
        host.$rpc.on(`delivery:${id}`, (d) => onDelivery(d as QueueDelivery));
        return host.consume(id, queue, co ?? {});
      };
      return ch as unknown as QueueChannel;
    },
    close: async () => port.close(),
  };
}
