/**
 * The queue model (RabbitMQ-like, AMQP 0-9-1 semantics): publishers send to exchanges, bindings
 * route copies into queues, consumers take messages from queues by push (`consume`) or pull
 * (`get`) and settle each delivery with ack / nack / reject.
 *
 * Shape follows amqplib (assertExchange, assertQueue, bindQueue, publish, consume, get, ack,
 * nack, reject, prefetch) on a channel object, but every call returns a promise, and a publish
 * resolves with what the broker said about that message (confirmed, returned).
 *
 * Delivery tags are per channel, as in AMQP; ack/nack/reject must be called on the channel that
 * received the delivery.
 */
import type { AdapterBase, Body } from './common';

/**
 *  - `exchange-direct`, `exchange-fanout`, `exchange-topic`, `exchange-headers`: exchange types.
 *  - `publisher-confirms`: `openChannel({confirms: true})` and `PublishResult.confirmed`.
 *  - `mandatory`: unroutable mandatory publishes come back as `returned: true`.
 *  - `get`: pull with `channel.get`.
 *  - `prefetch`: `channel.prefetch(n)` bounds unacked push deliveries per consumer.
 *  - `nack`: `nack` (multiple / requeue). `reject` is always required.
 *  - `delivery-count`: deliveries carry `deliveryCount` (x-delivery-count).
 *  - `delivery-limit`: `QueueArguments.deliveryLimit` is honoured (dead-letter or drop after it).
 *  - `message-ttl`, `queue-ttl-per-message`: queue `messageTtlMs` and per-message `expirationMs`.
 *  - `dead-letter`: `deadLetterExchange` / `deadLetterRoutingKey` with x-death on the copy.
 *  - `durable`: durable queues with persistent messages survive `restartBroker()`.
 */
export type QueueCapability =
  | 'exchange-direct'
  | 'exchange-fanout'
  | 'exchange-topic'
  | 'exchange-headers'
  | 'publisher-confirms'
  | 'mandatory'
  | 'get'
  | 'prefetch'
  | 'nack'
  | 'delivery-count'
  | 'delivery-limit'
  | 'message-ttl'
  | 'queue-ttl-per-message'
  | 'dead-letter'
  | 'durable';

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';

export interface ExchangeOptions {
  durable?: boolean;
  autoDelete?: boolean;
}

/** Queue declaration arguments (the `x-` arguments of RabbitMQ, named plainly). */
export interface QueueArguments {
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  /** x-message-ttl: messages older than this are expired (dead-lettered if a DLX is set). */
  messageTtlMs?: number;
  /** x-dead-letter-exchange. */
  deadLetterExchange?: string;
  /** x-dead-letter-routing-key (default: the message's own routing key). */
  deadLetterRoutingKey?: string;
  /**
   * x-delivery-limit: how many times a message may be returned to the queue (nack/reject with
   * requeue, consumer loss) before it is dead-lettered or dropped. So at most
   * `deliveryLimit + 1` deliveries in total.
   */
  deliveryLimit?: number;
  /** x-max-length. */
  maxLength?: number;
}

export interface PublishMessage {
  /** Harness message id (AMQP `messageId` is the natural place). */
  id: string;
  body?: Body;
  headers?: Readonly<Record<string, string | number | boolean>>;
  /** delivery-mode 2. */
  persistent?: boolean;
  /** Per-message TTL (AMQP `expiration`). */
  expirationMs?: number;
}

export interface PublishOptions {
  /** Return the message (`returned: true`) if no queue is bound for it. */
  mandatory?: boolean;
}

export interface PublishResult {
  id: string;
  /**
   * With confirms on: true when the broker confirmed (basic.ack), false on basic.nack.
   * Without confirms: null (nothing is known beyond "written to the socket").
   */
  confirmed: boolean | null;
  /** True when the broker returned the message as unroutable (mandatory publish). */
  returned: boolean;
}

export interface QueueDelivery {
  id: string;
  /** Channel-scoped tag for ack / nack / reject. */
  deliveryTag: number;
  /** Set when the broker has delivered this message before (requeue, consumer loss). */
  redelivered: boolean;
  /** x-delivery-count when known (capability `delivery-count`): 0 on the first delivery. */
  deliveryCount?: number;
  queue: string;
  exchange: string;
  routingKey: string;
  headers: Readonly<Record<string, unknown>>;
  body: Body | null;
  /** Set on push deliveries. */
  consumerTag?: string;
  /** x-death entries on a dead-lettered copy (reason: rejected | expired | maxlen | delivery_limit). */
  death?: readonly { queue: string; reason: string; count: number; exchange: string; routingKeys: readonly string[] }[];
}

export interface ConsumeOptions {
  /** Auto-ack (`noAck: true`): the message counts as acked when sent to the consumer. */
  noAck?: boolean;
  consumerTag?: string;
  exclusive?: boolean;
}

export interface ChannelOptions {
  /** Publisher confirms (capability `publisher-confirms`). */
  confirms?: boolean;
}

export interface QueueChannel {
  assertExchange(name: string, type: ExchangeType, options?: ExchangeOptions): Promise<void>;
  /** Declares a queue; redeclaring with other arguments throws (PRECONDITION_FAILED). */
  assertQueue(name: string, args?: QueueArguments): Promise<void>;
  deleteQueue(name: string): Promise<void>;
  deleteExchange(name: string): Promise<void>;
  /** Purges a queue; resolves with the number of messages removed. */
  purgeQueue(name: string): Promise<number>;
  /** For headers exchanges `args` holds the match headers and `x-match` (all | any). */
  bindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void>;
  unbindQueue(queue: string, exchange: string, routingKey: string, args?: Readonly<Record<string, string | number | boolean>>): Promise<void>;
  /** Ready messages and consumers of a queue (amqplib `checkQueue`). */
  checkQueue(name: string): Promise<{ messageCount: number; consumerCount: number }>;
  /**
   * Publishes one message. Resolves when the broker has said what it did: with confirms, after
   * the confirm (and after the return, if the message was returned); without, once written.
   * The exchange '' is the default exchange (routing key = queue name).
   */
  publish(exchange: string, routingKey: string, message: PublishMessage, options?: PublishOptions): Promise<PublishResult>;
  /** Bounds unacked push deliveries per consumer on this channel (0 = unlimited). */
  prefetch(count: number): Promise<void>;
  /**
   * Starts a push consumer; `onDelivery` is called for each delivery, in queue order. The
   * callback must not throw; the harness records and settles deliveries itself.
   */
  consume(queue: string, onDelivery: (delivery: QueueDelivery) => void, options?: ConsumeOptions): Promise<{ consumerTag: string }>;
  /** Stops a consumer; its unacked deliveries stay unacked until acked or the channel closes. */
  cancel(consumerTag: string): Promise<void>;
  /** Pull one message (`basic.get`); null when the queue has none ready. */
  get(queue: string, options?: { noAck?: boolean }): Promise<QueueDelivery | null>;
  ack(deliveryTag: number, multiple?: boolean): Promise<void>;
  nack(deliveryTag: number, options?: { multiple?: boolean; requeue?: boolean }): Promise<void>;
  reject(deliveryTag: number, requeue?: boolean): Promise<void>;
  /** Closes cleanly: every unacked delivery of this channel is requeued (redelivered = true). */
  close(): Promise<void>;
  /**
   * Drops the channel as a dead connection would (no clean close); the broker requeues its
   * unacked deliveries when it notices. Capability `consumer-crash`.
   */
  crash(): Promise<void>;
}

export interface QueueAdapter extends AdapterBase<'rabbitmq', QueueCapability> {
  openChannel(options?: ChannelOptions): Promise<QueueChannel>;
}
