/**
 * Public types of the RabbitMQ engine, shaped like amqplib's so an amqplib user reads them at
 * a glance (amqplib: `Options.Publish`, `Options.AssertQueue`, `ConsumeMessage`, `GetMessage`).
 */

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';

/** AMQP field-table values accepted in headers and arguments. */
export type FieldValue =
  | string
  | number
  | boolean
  | bigint
  | null
  | undefined
  | Date
  | Uint8Array
  | FieldValue[]
  | { [key: string]: FieldValue };

export type FieldTable = Record<string, FieldValue>;

export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  /** 1 = transient, 2 = persistent. */
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** Per-message TTL in milliseconds, as a decimal string (AMQP). */
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
}

export interface PublishOptions extends Omit<MessageProperties, 'expiration'> {
  /** Per-message TTL in ms (number or decimal string). */
  expiration?: string | number;
  /** Shorthand for deliveryMode 2. */
  persistent?: boolean;
  /** Return the message ('return' event, NO_ROUTE) when no queue receives it. */
  mandatory?: boolean;
  /** Extra routing keys, kept in the CC header (as RabbitMQ's sender-selected distribution). */
  CC?: string | string[];
  /** Extra routing keys not visible to consumers. */
  BCC?: string | string[];
}

export interface DeliveryFields {
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
}

export interface ConsumeFields extends DeliveryFields {
  consumerTag: string;
}

export interface GetFields extends DeliveryFields {
  /** Ready messages left in the queue after this one. */
  messageCount: number;
}

export interface ReturnFields {
  replyCode: number;
  replyText: string;
  exchange: string;
  routingKey: string;
}

export interface Message<F = DeliveryFields> {
  content: Buffer;
  fields: F;
  properties: MessageProperties;
}

export type ConsumeMessage = Message<ConsumeFields>;
export type GetMessage = Message<GetFields>;
export type ReturnMessage = Message<ReturnFields>;

export interface AssertExchangeOptions {
  /** Default true (as amqplib). */
  durable?: boolean;
  internal?: boolean;
  autoDelete?: boolean;
  alternateExchange?: string;
  arguments?: FieldTable;
}

export interface AssertQueueOptions {
  /** Default true (as amqplib). */
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  arguments?: FieldTable;
  /** x-message-ttl (ms). */
  messageTtl?: number;
  /** x-expires is not modelled; accepted only in `arguments` and ignored. */
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  maxLength?: number;
  /** x-delivery-limit (quorum-queue style). */
  deliveryLimit?: number;
}

export interface AssertQueueReply {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface ConsumeOptions {
  consumerTag?: string;
  noAck?: boolean;
  exclusive?: boolean;
  arguments?: FieldTable;
}

export interface DeleteQueueOptions {
  ifUnused?: boolean;
  ifEmpty?: boolean;
}

/** One entry of the x-death header (most recent first), as RabbitMQ writes it. */
export interface XDeathEntry {
  count: number;
  reason: DeadLetterReason;
  queue: string;
  /** Time of the first dead-lettering for this (queue, reason), AMQP timestamp (seconds). */
  time: number;
  exchange: string;
  'routing-keys': string[];
  'original-expiration'?: string;
}

export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** How persistent messages reach the disk (the core log's flush policy). */
export type Durability = 'none' | 'async' | 'sync';

export interface EngineOptions {
  /** Milliseconds since epoch; TTL and x-death times use it. Default Date.now. */
  clock?: () => number;
  /**
   * 'none' (default): persistent messages are in the page cache when confirmed, so they survive
   * an engine or process restart but not a machine crash. 'sync': confirms wait for fdatasync
   * (group commit). 'async': background flush.
   */
  durability?: Durability;
  /** Segment size of each durable queue's log. Default 8 MiB. */
  segmentBytes?: number;
  /**
   * Copy message content on publish (default true), so a publisher may reuse its buffer. Off
   * only for benchmarks that never touch a buffer after publishing it.
   */
  copyContent?: boolean;
  /**
   * The durable-definitions log (every declare, delete, bind, unbind) is rewritten as the
   * current definitions on open once it holds more than this many records (and more than twice
   * the live definitions). Default 10 000.
   */
  compactDefinitionsAfter?: number;
}
