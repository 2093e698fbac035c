/**
 * Queue-model adapter for a real RabbitMQ broker, over amqplib (AMQP 0-9-1).
 *
 *   createAdapter({url: 'amqp://127.0.0.1:5672'})
 *
 * Each harness channel gets its own AMQP connection, so `crash()` can drop exactly that channel
 * as a dead TCP connection would (socket destroyed, no channel.close / connection.close).
 * Declarations run on a separate admin channel of the same connection: in AMQP a failed
 * declaration (406, 404) closes the channel it ran on, and the harness' deliveries must survive it.
 *
 * Queue types: `deliveryLimit` exists only on quorum queues (classic queues ignore
 * x-delivery-limit), so a queue declared with `deliveryLimit` is declared as a durable quorum
 * queue. `params.queueType=quorum` makes every queue quorum.
 */
import * as amqp from 'amqplib';
import { MqlabError } from '../../../core/errors';
import type { AdapterOptions, CommonCapability } from '../common';
import type {
  ChannelOptions, ConsumeOptions, ExchangeOptions, ExchangeType, PublishMessage, PublishOptions, PublishResult,
  QueueAdapter, QueueArguments, QueueCapability, QueueChannel, QueueDelivery,
} from '../queue-model';
import { brokerUnreachable, isLocalPeer, parseBrokerUrl, restartPeer, toBuffer, withDeadline, type BrokerAddress } from './support';

const AMQP_REPLY_NAMES: Record<number, string> = {
  311: 'CONTENT_TOO_LARGE', 312: 'NO_ROUTE', 313: 'NO_CONSUMERS', 320: 'CONNECTION_FORCED', 402: 'INVALID_PATH',
  403: 'ACCESS_REFUSED', 404: 'NOT_FOUND', 405: 'RESOURCE_LOCKED', 406: 'PRECONDITION_FAILED', 501: 'FRAME_ERROR',
  502: 'SYNTAX_ERROR', 503: 'COMMAND_INVALID', 504: 'CHANNEL_ERROR', 505: 'UNEXPECTED_FRAME', 506: 'RESOURCE_ERROR',
  530: 'NOT_ALLOWED', 540: 'NOT_IMPLEMENTED', 541: 'INTERNAL_ERROR',
};

/** amqplib errors carry the AMQP reply code; keep RabbitMQ's own names (NOT_FOUND, PRECONDITION_FAILED). */
function amqpError(e: unknown, what: string): MqlabError {
  if (e instanceof MqlabError) return e;
  const err = e as { code?: unknown; message?: string };
  const replyCode = typeof err?.code === 'number' ? err.code : undefined;
  const name = replyCode !== undefined ? AMQP_REPLY_NAMES[replyCode] ?? `AMQP_${replyCode}` : 'ERR_BROKER';
  return new MqlabError(name, `rabbitmq ${what}: ${err?.message ?? String(e)}`, replyCode !== undefined ? { replyCode } : undefined);
}

function queueDeclareOptions(args: QueueArguments, forceQuorum: boolean): amqp.Options.AssertQueue {
  const x: Record<string, unknown> = {};
  if (args.messageTtlMs !== undefined) x['x-message-ttl'] = args.messageTtlMs;
  if (args.deadLetterExchange !== undefined) x['x-dead-letter-exchange'] = args.deadLetterExchange;
  if (args.deadLetterRoutingKey !== undefined) x['x-dead-letter-routing-key'] = args.deadLetterRoutingKey;
  if (args.maxLength !== undefined) x['x-max-length'] = args.maxLength;
  const quorum = forceQuorum || args.deliveryLimit !== undefined;
  if (quorum) {
    x['x-queue-type'] = 'quorum';
    if (args.deliveryLimit !== undefined) x['x-delivery-limit'] = args.deliveryLimit;
    // Quorum queues are always durable, never exclusive or auto-delete.
    return { durable: true, exclusive: false, autoDelete: false, arguments: x };
  }
  return { durable: args.durable ?? false, exclusive: args.exclusive ?? false, autoDelete: args.autoDelete ?? false, arguments: x };
}

function toDelivery(msg: amqp.Message, queue: string, quorum: boolean): QueueDelivery {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const id = typeof msg.properties.messageId === 'string' ? msg.properties.messageId : String(headers['x-mqlab-id'] ?? '');
  const delivery: QueueDelivery = {
    id,
    deliveryTag: msg.fields.deliveryTag,
    redelivered: msg.fields.redelivered,
    queue,
    exchange: msg.fields.exchange,
    routingKey: msg.fields.routingKey,
    headers,
    body: msg.content,
  };
  // Quorum queues add x-delivery-count from the first redelivery on; no header there = first delivery.
  const count = headers['x-delivery-count'];
  if (typeof count === 'number') delivery.deliveryCount = count;
  else if (quorum) delivery.deliveryCount = 0;
  const consumerTag = (msg.fields as { consumerTag?: string }).consumerTag;
  if (consumerTag) delivery.consumerTag = consumerTag;
  const death = headers['x-death'];
  if (Array.isArray(death)) {
    delivery.death = death.map((d: Record<string, unknown>) => ({
      queue: String(d.queue ?? ''),
      reason: String(d.reason ?? ''),
      count: Number(d.count ?? 0),
      exchange: String(d.exchange ?? ''),
      routingKeys: Array.isArray(d['routing-keys']) ? (d['routing-keys'] as unknown[]).map(String) : [],
    }));
  }
  return delivery;
}

class RabbitChannel implements QueueChannel {
  private admin: amqp.Channel | null = null;
  private prefetchCount = 0;
  private readonly returned = new Set<string>();
  private closed = false;
  private failure: MqlabError | null = null;

  /** The broker closed the channel (a channel exception: 404, 406...), the connection lives on. */
  private channelClosedByBroker = false;
  private connectionDown = false;

  constructor(
    private readonly model: amqp.ChannelModel,
    private ch: amqp.Channel | amqp.ConfirmChannel,
    private readonly confirms: boolean,
    private readonly forceQuorum: boolean,
    private readonly address: BrokerAddress,
    /** Names of the quorum queues this adapter declared (shared by its channels). */
    private readonly quorumQueues: Set<string>,
  ) {
    this.attach(ch);
    model.on('error', (e: unknown) => { this.connectionDown = true; this.failure ??= brokerUnreachable('RabbitMQ', address, e); });
    model.on('close', () => { this.connectionDown = true; this.failure ??= new MqlabError('ERR_CLOSED', `rabbitmq connection to ${address.url} is closed`); });
  }

  private attach(ch: amqp.Channel | amqp.ConfirmChannel): void {
    ch.setMaxListeners(0);
    ch.on('return', (msg: amqp.Message) => {
      if (typeof msg.properties.messageId === 'string') this.returned.add(msg.properties.messageId);
    });
    // Only the current channel's events count: a replaced channel's late close changes nothing.
    ch.on('error', (e: unknown) => {
      if (this.ch !== ch) return;
      this.failure = amqpError(e, 'channel closed by the broker');
      this.channelClosedByBroker = true;
    });
    ch.on('close', () => { if (this.ch === ch) this.failure ??= new MqlabError('ERR_CLOSED', `rabbitmq channel to ${this.address.url} is closed`); });
  }

  private live(): amqp.Channel {
    if (this.failure) throw this.failure;
    return this.ch;
  }

  /**
   * The channel for an operation that does not depend on earlier deliveries (publish, consume,
   * get, prefetch, cancel): after the broker closed the channel with a channel exception (the
   * failing call got the typed error), a fresh channel is opened on the same connection, as an
   * AMQP client does. Settles keep failing: their delivery tags died with the old channel (the
   * broker requeued those deliveries).
   */
  private async usable(): Promise<amqp.Channel> {
    if (this.failure && this.channelClosedByBroker && !this.connectionDown && !this.closed) {
      const ch = this.confirms ? await this.model.createConfirmChannel() : await this.model.createChannel();
      this.ch = ch;
      this.attach(ch);
      this.failure = null;
      this.channelClosedByBroker = false;
      if (this.prefetchCount > 0) await ch.prefetch(this.prefetchCount).catch((e: unknown) => { throw amqpError(e, 'prefetch'); });
    }
    return this.live();
  }

  /** The admin channel, reopened after a declaration error closed it. */
  private async adminChannel(): Promise<amqp.Channel> {
    if (this.failure) throw this.failure;
    if (this.admin) return this.admin;
    const admin = await this.model.createChannel();
    admin.on('error', () => undefined);
    admin.on('close', () => { if (this.admin === admin) this.admin = null; });
    this.admin = admin;
    return admin;
  }

  private async adminOp<T>(what: string, op: (ch: amqp.Channel) => Promise<T>): Promise<T> {
    const ch = await this.adminChannel();
    try {
      return await op(ch);
    } catch (e) {
      if (this.admin === ch) this.admin = null;
      throw amqpError(e, what);
    }
  }

  async assertExchange(name: string, type: ExchangeType, options?: ExchangeOptions): Promise<void> {
    await this.adminOp(`assertExchange ${name}`, (ch) => ch.assertExchange(name, type, { durable: options?.durable ?? false, autoDelete: options?.autoDelete ?? false }));
  }

  async assertQueue(name: string, args?: QueueArguments): Promise<void> {
    // Exclusive queues belong to the declaring connection, which is this channel's connection either way.
    const options = queueDeclareOptions(args ?? {}, this.forceQuorum);
    await this.adminOp(`assertQueue ${name}`, (ch) => ch.assertQueue(name, options));
    if ((options.arguments as Record<string, unknown>)['x-queue-type'] === 'quorum') this.quorumQueues.add(name);
  }

  async deleteQueue(name: string): Promise<void> {
    await this.adminOp(`deleteQueue ${name}`, (ch) => ch.deleteQueue(name));
  }

  async deleteExchange(name: string): Promise<void> {
    await this.adminOp(`deleteExchange ${name}`, (ch) => ch.deleteExchange(name));
  }

  async purgeQueue(name: string): Promise<number> {
    const r = await this.adminOp(`purgeQueue ${name}`, (ch) => ch.purgeQueue(name));
    return r.messageCount;
  }

  async bindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    await this.adminOp(`bindQueue ${queue} <- ${exchange}`, (ch) => ch.bindQueue(queue, exchange, routingKey, args ? { ...args } : undefined));
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    await this.adminOp(`unbindQueue ${queue} <- ${exchange}`, (ch) => ch.unbindQueue(queue, exchange, routingKey, args ? { ...args } : undefined));
  }

  async checkQueue(name: string): Promise<{ messageCount: number; consumerCount: number }> {
    const r = await this.adminOp(`checkQueue ${name}`, (ch) => ch.checkQueue(name));
    return { messageCount: r.messageCount, consumerCount: r.consumerCount };
  }

  async publish(exchange: string, routingKey: string, message: PublishMessage, options?: PublishOptions): Promise<PublishResult> {
    const ch = await this.usable();
    const props: amqp.Options.Publish = {
      messageId: message.id,
      headers: { ...(message.headers ?? {}), 'x-mqlab-id': message.id },
      persistent: message.persistent ?? false,
      mandatory: options?.mandatory ?? false,
    };
    if (message.expirationMs !== undefined) props.expiration = String(message.expirationMs);
    const content = toBuffer(message.body);
    if (this.confirms) {
      const confirmed = await new Promise<boolean>((resolvePublish, reject) => {
        const onClose = (): void => reject(this.failure ?? new MqlabError('ERR_CLOSED', `rabbitmq channel to ${this.address.url} closed before the confirm`));
        ch.once('close', onClose);
        (ch as amqp.ConfirmChannel).publish(exchange, routingKey, content, props, (err) => {
          ch.removeListener('close', onClose);
          if (!err) { resolvePublish(true); return; }
          // amqplib fails pending confirms both on basic.nack (channel stays open: confirmed
          // false) and when the broker closes the channel (e.g. 404 for a missing exchange:
          // that is an error, with the broker's code). Its error event may come a tick later.
          setImmediate(() => (this.failure ? reject(this.failure) : resolvePublish(false)));
        });
      });
      // basic.return precedes the basic.ack of the same message on the channel.
      const returned = this.returned.delete(message.id);
      return { id: message.id, confirmed, returned };
    }
    const flushed = ch.publish(exchange, routingKey, content, props);
    if (!flushed) await new Promise<void>((r) => ch.once('drain', () => r()));
    let returned = false;
    if (props.mandatory) {
      // A synchronous round trip on the same channel: any basic.return for the publish above
      // arrives before its reply (AMQP keeps one channel's frames in order). basic.qos with the
      // current value changes nothing.
      await ch.prefetch(this.prefetchCount).catch((e: unknown) => { throw amqpError(e, 'publish'); });
      returned = this.returned.delete(message.id);
    }
    return { id: message.id, confirmed: null, returned };
  }

  async prefetch(count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 0 || count > 65535) throw new MqlabError('ERR_INVALID_ARG', 'prefetch count must be an integer 0..65535');
    await (await this.usable()).prefetch(count).catch((e: unknown) => { throw amqpError(e, 'prefetch'); });
    this.prefetchCount = count;
  }

  async consume(queue: string, onDelivery: (delivery: QueueDelivery) => void, options?: ConsumeOptions): Promise<{ consumerTag: string }> {
    const opts: amqp.Options.Consume = { noAck: options?.noAck ?? false, exclusive: options?.exclusive ?? false };
    if (options?.consumerTag) opts.consumerTag = options.consumerTag;
    try {
      const r = await (await this.usable()).consume(queue, (msg) => {
        if (msg) onDelivery(toDelivery(msg, queue, this.quorumQueues.has(queue)));
      }, opts);
      return { consumerTag: r.consumerTag };
    } catch (e) {
      throw amqpError(e, `consume ${queue}`);
    }
  }

  async cancel(consumerTag: string): Promise<void> {
    await (await this.usable()).cancel(consumerTag).catch((e: unknown) => { throw amqpError(e, `cancel ${consumerTag}`); });
  }

  async get(queue: string, options?: { noAck?: boolean }): Promise<QueueDelivery | null> {
    try {
      const msg = await (await this.usable()).get(queue, { noAck: options?.noAck ?? false });
      return msg === false ? null : toDelivery(msg, queue, this.quorumQueues.has(queue));
    } catch (e) {
      throw amqpError(e, `get ${queue}`);
    }
  }

  private tag(deliveryTag: number): amqp.Message {
    if (!Number.isSafeInteger(deliveryTag) || deliveryTag < 0) throw new MqlabError('ERR_INVALID_ARG', 'deliveryTag must be a non-negative integer');
    return { fields: { deliveryTag } } as unknown as amqp.Message;
  }

  /**
   * basic.ack / nack / reject have no reply, and amqplib queues frames before writing them: a
   * settle that resolved but sat in a buffer when the connection died would be lost. So a
   * settle resolves after a synchronous round trip on the same channel (basic.qos with the
   * current value, which changes nothing): the broker handles a channel's frames in order, so
   * the settle was processed. Settles issued in the same tick share one round trip.
   */
  private syncing: Promise<void> | null = null;

  private sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = new Promise<void>((resolveSync, reject) => {
        setImmediate(() => {
          this.syncing = null;
          if (this.failure) { reject(this.failure); return; }
          this.ch.prefetch(this.prefetchCount).then(() => resolveSync(), (e: unknown) => reject(amqpError(e, 'settle')));
        });
      });
    }
    return this.syncing;
  }

  async ack(deliveryTag: number, multiple?: boolean): Promise<void> {
    this.live().ack(this.tag(deliveryTag), multiple ?? false);
    await this.sync();
  }

  async nack(deliveryTag: number, options?: { multiple?: boolean; requeue?: boolean }): Promise<void> {
    this.live().nack(this.tag(deliveryTag), options?.multiple ?? false, options?.requeue ?? true);
    await this.sync();
  }

  async reject(deliveryTag: number, requeue?: boolean): Promise<void> {
    this.live().reject(this.tag(deliveryTag), requeue ?? true);
    await this.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Channel first: its close goes out behind the publishes and settles amqplib still holds,
    // while connection.close would overtake them (and the broker would drop them). The broker
    // requeues the channel's unacked deliveries.
    if (!this.failure) await this.ch.close().catch(() => undefined);
    if (this.admin) await this.admin.close().catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }

  async crash(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failure = new MqlabError('ERR_CLOSED', 'rabbitmq channel was crashed by the harness');
    // destroy(err): amqplib only notices a socket that errors or ends, and stops its heartbeat then.
    const stream = (this.model.connection as unknown as { stream?: { destroy(err?: Error): void } }).stream;
    if (stream) stream.destroy(new Error('connection dropped by the harness (crash)'));
    else await this.model.close().catch(() => undefined);
  }
}

class RabbitAdapter implements QueueAdapter {
  readonly info: QueueAdapter['info'];
  private readonly channels = new Set<RabbitChannel>();
  private readonly quorumQueues = new Set<string>();

  constructor(
    private readonly address: BrokerAddress,
    private readonly amqpUrl: string,
    private readonly forceQuorum: boolean,
    private readonly connectTimeoutMs: number,
    canRestart: boolean,
    serverVersion: string,
  ) {
    const capabilities: (QueueCapability | CommonCapability)[] = [
      'exchange-direct', 'exchange-fanout', 'exchange-topic', 'exchange-headers', 'publisher-confirms', 'mandatory',
      'get', 'prefetch', 'nack', 'delivery-count', 'delivery-limit', 'message-ttl', 'queue-ttl-per-message',
      'dead-letter', 'durable', 'consumer-crash',
    ];
    if (canRestart) capabilities.push('broker-restart');
    this.info = {
      model: 'rabbitmq',
      name: `amqplib -> RabbitMQ ${serverVersion} at ${address.url}`,
      guarantee: 'at-least-once',
      capabilities,
      timeouts: { lifecycle: 60_000 },
      // Across a socket on a loaded machine, 150 ms without a delivery is not "drained".
      quietMs: 750,
    };
  }

  async openChannel(options?: ChannelOptions): Promise<QueueChannel> {
    const model = await connectTo(this.amqpUrl, this.address, this.connectTimeoutMs);
    try {
      const ch = options?.confirms ? await model.createConfirmChannel() : await model.createChannel();
      const channel = new RabbitChannel(model, ch, options?.confirms ?? false, this.forceQuorum, this.address, this.quorumQueues);
      this.channels.add(channel);
      return channel;
    } catch (e) {
      await model.close().catch(() => undefined);
      throw amqpError(e, 'openChannel');
    }
  }

  /** Stops and starts the RabbitMQ application of the node peers/rabbitmq/start.sh runs (durable state kept). */
  async restartBroker(): Promise<void> {
    await restartPeer('rabbitmq', 90_000);
  }

  async close(): Promise<void> {
    await Promise.all([...this.channels].map((c) => c.close()));
    this.channels.clear();
  }
}

async function connectTo(url: string, address: BrokerAddress, timeoutMs: number): Promise<amqp.ChannelModel> {
  let model: amqp.ChannelModel;
  try {
    model = await withDeadline(amqp.connect(url, { timeout: timeoutMs }), timeoutMs, `connecting to RabbitMQ at ${address.url}`);
  } catch (e) {
    throw brokerUnreachable('RabbitMQ', address, e);
  }
  model.on('error', () => undefined);
  return model;
}

export async function createAdapter(options: AdapterOptions): Promise<QueueAdapter> {
  const address = parseBrokerUrl(options.url, ['amqp', 'rabbitmq'], 5672);
  const amqpUrl = `amqp://${options.params?.user ?? 'guest'}:${options.params?.password ?? 'guest'}@${address.host}:${address.port}`;
  const connectTimeoutMs = Number(options.params?.connectTimeoutMs ?? 5000);
  // One probe connection: fail fast, naming the broker, when nothing answers.
  const probe = await connectTo(amqpUrl, address, connectTimeoutMs);
  const props = probe.connection.serverProperties as unknown as Record<string, unknown>;
  const version = String(props.version ?? 'unknown');
  await probe.close().catch(() => undefined);
  return new RabbitAdapter(address, amqpUrl, options.params?.queueType === 'quorum', connectTimeoutMs, isLocalPeer('rabbitmq', address), version);
}
