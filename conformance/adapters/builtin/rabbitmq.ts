/**
 * The built-in queue-model adapter: the conformance harness over mqlab's in-process RabbitMQ
 * engine (core/rabbitmq). `mqlab conform --model rabbitmq --adapter builtin` loads this file.
 *
 * - Message ids travel as the AMQP `messageId` property (and the `x-mqlab-id` header).
 * - Each harness channel gets its own engine connection, so `crash()` drops exactly that channel
 *   as a dead TCP connection would: the engine requeues its unacked deliveries.
 * - Time: the engine clock is the real clock plus a virtual offset; `advanceTime` moves it and
 *   sweeps expired messages at once, as the engine's expiry timers would have.
 * - `restartBroker` closes the engine (clients opened before become invalid) and reopens it on
 *   the same data directory.
 * - Worker threads: `workerSpec()` serves the engine on a MessagePort (core/rabbitmq/remote-*);
 *   the worker's adapter drives the same engine through it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MqlabError } from '../../../core/errors';
import { RabbitEngine } from '../../../core/rabbitmq';
import type { Channel, ConfirmChannel, Connection, GetMessage, ConsumeMessage, PublishOptions as EnginePublishOptions, XDeathEntry } from '../../../core/rabbitmq';
import { connectRemoteEngine, serveRemoteEngine, type EngineLike, type RemoteEngine } from '../../../core/rabbitmq/remote';
import type { AdapterInfo, AdapterOptions, CreateAdapter, WorkerSpec } from '../common';
import type {
  ChannelOptions,
  ConsumeOptions,
  ExchangeOptions,
  ExchangeType,
  PublishMessage,
  PublishOptions,
  PublishResult,
  QueueAdapter,
  QueueArguments,
  QueueCapability,
  QueueChannel,
  QueueDelivery,
} from '../queue-model';

const ID_HEADER = 'x-mqlab-id';

const CAPABILITIES: AdapterInfo<'rabbitmq', QueueCapability>['capabilities'] = [
  'exchange-direct',
  'exchange-fanout',
  'exchange-topic',
  'exchange-headers',
  'publisher-confirms',
  'mandatory',
  'get',
  'prefetch',
  'nack',
  'delivery-count',
  'delivery-limit',
  'message-ttl',
  'queue-ttl-per-message',
  'dead-letter',
  'durable',
  'consumer-crash',
  'broker-restart',
  'virtual-time',
  'worker-threads',
];

function toDelivery(msg: ConsumeMessage | GetMessage, queue: string): QueueDelivery {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const id = msg.properties.messageId ?? String(headers[ID_HEADER] ?? '');
  const d: QueueDelivery = {
    id,
    deliveryTag: msg.fields.deliveryTag,
    redelivered: msg.fields.redelivered,
    deliveryCount: typeof headers['x-delivery-count'] === 'number' ? (headers['x-delivery-count'] as number) : 0,
    queue,
    exchange: msg.fields.exchange,
    routingKey: msg.fields.routingKey,
    headers,
    body: msg.content,
  };
  if ('consumerTag' in msg.fields) d.consumerTag = msg.fields.consumerTag;
  const death = headers['x-death'];
  if (Array.isArray(death)) {
    d.death = (death as XDeathEntry[]).map((x) => ({ queue: x.queue, reason: x.reason, count: x.count, exchange: x.exchange, routingKeys: [...x['routing-keys']] }));
  }
  return d;
}

function queueOptions(args: QueueArguments = {}) {
  return {
    durable: args.durable ?? false,
    exclusive: args.exclusive ?? false,
    autoDelete: args.autoDelete ?? false,
    ...(args.messageTtlMs !== undefined ? { messageTtl: args.messageTtlMs } : {}),
    ...(args.deadLetterExchange !== undefined ? { deadLetterExchange: args.deadLetterExchange } : {}),
    ...(args.deadLetterRoutingKey !== undefined ? { deadLetterRoutingKey: args.deadLetterRoutingKey } : {}),
    ...(args.deliveryLimit !== undefined ? { deliveryLimit: args.deliveryLimit } : {}),
    ...(args.maxLength !== undefined ? { maxLength: args.maxLength } : {}),
  };
}

function publishProps(message: PublishMessage, options?: PublishOptions): EnginePublishOptions {
  const props: EnginePublishOptions = {
    messageId: message.id,
    headers: { ...(message.headers ?? {}), [ID_HEADER]: message.id },
    persistent: message.persistent ?? false,
    mandatory: options?.mandatory ?? false,
  };
  if (message.expirationMs !== undefined) props.expiration = message.expirationMs;
  return props;
}

function bodyOf(b: PublishMessage['body']): Buffer {
  if (b === undefined) return Buffer.alloc(0);
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The part of an engine channel the adapter uses: the local Channel or a worker's RemoteChannel. */
type AnyChannel = Pick<Channel, 'on' | 'assertExchange' | 'assertQueue' | 'deleteQueue' | 'deleteExchange' | 'purgeQueue' | 'bindQueue' | 'unbindQueue' | 'checkQueue' | 'prefetch' | 'cancel'> & {
  publish(exchange: string, routingKey: string, content: Uint8Array, options?: EnginePublishOptions, cb?: (err: Error | null) => void): boolean;
  consume(queue: string, onMessage: (m: ConsumeMessage | null) => void, options?: { noAck?: boolean; consumerTag?: string; exclusive?: boolean }): Promise<{ consumerTag: string }>;
  get(queue: string, options?: { noAck?: boolean }): Promise<GetMessage | false>;
  ack(tag: number, allUpTo?: boolean): void;
  nack(tag: number, allUpTo?: boolean, requeue?: boolean): void;
  reject(tag: number, requeue?: boolean): void;
  close(): Promise<void>;
  /** Resolves when the engine has processed everything sent so far on this channel. */
  sync(): Promise<void>;
};

class BuiltinQueueChannel implements QueueChannel {
  private readonly returned = new Set<string>();

  constructor(
    private readonly ch: AnyChannel,
    private readonly confirms: boolean,
    private readonly crashFn: () => Promise<void>,
  ) {
    ch.on('return', (m: { properties: { messageId?: string } }) => {
      if (m.properties.messageId !== undefined) this.returned.add(m.properties.messageId);
    });
  }

  async assertExchange(name: string, type: ExchangeType, options?: ExchangeOptions): Promise<void> {
    await this.ch.assertExchange(name, type, { durable: options?.durable ?? false, autoDelete: options?.autoDelete ?? false });
  }
  async assertQueue(name: string, args?: QueueArguments): Promise<void> {
    await this.ch.assertQueue(name, queueOptions(args));
  }
  async deleteQueue(name: string): Promise<void> {
    await this.ch.deleteQueue(name);
  }
  async deleteExchange(name: string): Promise<void> {
    await this.ch.deleteExchange(name);
  }
  async purgeQueue(name: string): Promise<number> {
    return (await this.ch.purgeQueue(name)).messageCount;
  }
  async bindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    await this.ch.bindQueue(queue, exchange, routingKey, args ? { ...args } : undefined);
  }
  async unbindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    await this.ch.unbindQueue(queue, exchange, routingKey, args ? { ...args } : undefined);
  }
  async checkQueue(name: string): Promise<{ messageCount: number; consumerCount: number }> {
    const r = await this.ch.checkQueue(name);
    return { messageCount: r.messageCount, consumerCount: r.consumerCount };
  }

  async publish(exchange: string, routingKey: string, message: PublishMessage, options?: PublishOptions): Promise<PublishResult> {
    const props = publishProps(message, options);
    if (this.confirms) {
      const confirmed = await new Promise<boolean>((resolve, reject) => {
        try {
          // A plain Error is a nack; an MqlabError is a failed publish (e.g. NOT_FOUND from a worker).
          this.ch.publish(exchange, routingKey, bodyOf(message.body), props, (err) => (err instanceof MqlabError ? reject(err) : resolve(err === null)));
        } catch (e) {
          reject(e);
        }
      });
      return { id: message.id, confirmed, returned: this.returned.delete(message.id) };
    }
    this.ch.publish(exchange, routingKey, bodyOf(message.body), props);
    // The engine emits basic.return from its next pump (and a worker's publish errors arrive
    // with its batch reply): one round trip makes both visible.
    await this.ch.sync();
    return { id: message.id, confirmed: null, returned: this.returned.delete(message.id) };
  }

  async prefetch(count: number): Promise<void> {
    await this.ch.prefetch(count);
  }

  async consume(queue: string, onDelivery: (delivery: QueueDelivery) => void, options?: ConsumeOptions): Promise<{ consumerTag: string }> {
    return this.ch.consume(
      queue,
      (m) => {
        if (m) onDelivery(toDelivery(m, queue));
      },
      {
        noAck: options?.noAck ?? false,
        exclusive: options?.exclusive ?? false,
        ...(options?.consumerTag !== undefined ? { consumerTag: options.consumerTag } : {}),
      },
    );
  }

  async cancel(consumerTag: string): Promise<void> {
    await this.ch.cancel(consumerTag);
  }

  async get(queue: string, options?: { noAck?: boolean }): Promise<QueueDelivery | null> {
    const m = await this.ch.get(queue, { noAck: options?.noAck ?? false });
    return m === false ? null : toDelivery(m, queue);
  }

  async ack(deliveryTag: number, multiple?: boolean): Promise<void> {
    this.ch.ack(deliveryTag, multiple ?? false);
    await this.ch.sync();
  }
  async nack(deliveryTag: number, options?: { multiple?: boolean; requeue?: boolean }): Promise<void> {
    this.ch.nack(deliveryTag, options?.multiple ?? false, options?.requeue ?? true);
    await this.ch.sync();
  }
  async reject(deliveryTag: number, requeue?: boolean): Promise<void> {
    this.ch.reject(deliveryTag, requeue ?? true);
    await this.ch.sync();
  }
  async close(): Promise<void> {
    await this.ch.close();
  }
  async crash(): Promise<void> {
    await this.crashFn();
  }
}

/** Local engine channels get a `sync` (the engine settles synchronously; returns need one pump). */
function localChannel(ch: Channel | ConfirmChannel): AnyChannel {
  const any = ch as unknown as AnyChannel;
  any.sync = () => new Promise<void>((r) => setImmediate(r));
  return any;
}

class BuiltinQueueAdapter implements QueueAdapter {
  readonly info: AdapterInfo<'rabbitmq', QueueCapability>;
  private engine: RabbitEngine;
  /** Set when the storage core could not be loaded: the engine runs memory-only. */
  private readonly memoryOnly: string | null;
  private skewMs = 0;
  private readonly clock = (): number => Date.now() + this.skewMs;
  private readonly connections = new Set<Connection>();
  private readonly servers: Array<{ close(): void }> = [];

  constructor(
    private readonly dataDir: string,
    private readonly ownsDir: boolean,
  ) {
    let memoryOnly: string | null = null;
    try {
      this.engine = RabbitEngine.open(dataDir, { clock: this.clock });
    } catch (e) {
      // Without the native addon the engine still runs, memory-only: checks that need
      // persistence are then skipped with this reason instead of every check failing.
      memoryOnly = (e as Error).message;
      this.engine = RabbitEngine.open(null, { clock: this.clock });
    }
    this.memoryOnly = memoryOnly;
    this.info = {
      model: 'rabbitmq',
      name: memoryOnly ? `mqlab built-in rabbitmq engine (memory only: ${memoryOnly})` : 'mqlab built-in rabbitmq engine',
      guarantee: 'at-least-once',
      capabilities: memoryOnly ? CAPABILITIES.filter((c) => c !== 'durable' && c !== 'broker-restart') : CAPABILITIES,
    };
  }

  async openChannel(options?: ChannelOptions): Promise<QueueChannel> {
    const conn = await this.engine.connect();
    this.connections.add(conn);
    const confirms = options?.confirms ?? false;
    const ch = confirms ? await conn.createConfirmChannel() : await conn.createChannel();
    // Deliveries on a crashed or closed channel are the engine's to requeue; the adapter ignores callback errors.
    ch.on('error', () => undefined);
    return new BuiltinQueueChannel(localChannel(ch), confirms, async () => {
      this.connections.delete(conn);
      conn.closeNow();
    });
  }

  async restartBroker(): Promise<void> {
    await this.engine.close();
    this.connections.clear();
    this.engine = RabbitEngine.open(this.memoryOnly ? null : this.dataDir, { clock: this.clock });
  }

  async advanceTime(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new MqlabError('ERR_INVALID_ARG', 'advanceTime ms must be a non-negative number');
    this.skewMs += ms;
    this.engine.sweepExpired();
  }

  async workerSpec(): Promise<WorkerSpec> {
    const { port1, port2 } = new MessageChannel();
    this.servers.push(serveRemoteEngine(port1, this.engineLike()));
    return { modulePath: __filename, options: {}, data: { port: port2 }, transferList: [port2] };
  }

  /** The engine as the remote host sees it, following restarts. */
  private engineLike(): EngineLike {
    return { connect: () => this.engine.connect() };
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    await this.engine.close();
    if (this.ownsDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The adapter inside a worker thread: same engine, reached through a MessagePort. */
class WorkerQueueAdapter implements QueueAdapter {
  readonly info: AdapterInfo<'rabbitmq', QueueCapability> = {
    model: 'rabbitmq',
    name: 'mqlab built-in rabbitmq engine (worker thread)',
    guarantee: 'at-least-once',
    capabilities: CAPABILITIES.filter((c) => c !== 'broker-restart' && c !== 'virtual-time' && c !== 'worker-threads'),
  };

  constructor(private readonly remote: RemoteEngine) {}

  async openChannel(options?: ChannelOptions): Promise<QueueChannel> {
    const confirms = options?.confirms ?? false;
    const conn = await this.remote.connect();
    const ch = confirms ? await conn.createConfirmChannel() : await conn.createChannel();
    return new BuiltinQueueChannel(ch as unknown as AnyChannel, confirms, () => conn.close());
  }

  async close(): Promise<void> {
    await this.remote.close();
  }
}

export const createAdapter: CreateAdapter<QueueAdapter> = (options: AdapterOptions) => {
  const port = (options.worker?.data as { port?: MessagePort } | undefined)?.port;
  if (port !== undefined) return new WorkerQueueAdapter(connectRemoteEngine(port));
  if (options.dataDir !== undefined) return new BuiltinQueueAdapter(options.dataDir, false);
  return new BuiltinQueueAdapter(fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-rabbitmq-')), true);
};
