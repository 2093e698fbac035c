/**
 * The broker model (RocketMQ-like): a nameserver keeps the route table (which brokers hold which
 * topic, with how many queues); producers look a route up, pick a queue (round-robin or by a
 * selector) and send; consumer groups subscribe with a tag expression and consume in CLUSTERING
 * mode (each message to one member) or BROADCASTING mode (every member gets every message);
 * each consumed message is settled CONSUME_SUCCESS or RECONSUME_LATER (retry via
 * `%RETRY%<group>` with delay levels, `%DLQ%<group>` after maxReconsumeTimes).
 *
 * Consumption is pull-shaped for the harness: `receive` hands out messages, `settle` reports the
 * listener's status. An adapter over a push consumer buffers messages and holds the listener's
 * return until `settle` is called.
 */
import type { AdapterBase, Body } from './common';

/**
 *  - `tags`: subscription expressions `*` and `A || B` filter by tag.
 *  - `keys`: message keys and `queryByKey`.
 *  - `query-by-id`: `queryById` with the msgId from the send result.
 *  - `ordered-selector`: `send(..., {shardingKey})` puts equal keys in one queue (FIFO).
 *  - `clustering`, `broadcasting`: message models.
 *  - `retry`: RECONSUME_LATER redelivers with `reconsumeTimes` + 1 (retry topic, delay levels).
 *  - `dead-letter`: after `maxReconsumeTimes` the message goes to `%DLQ%<group>`.
 *  - `delay-level`: `message.delayLevel` (1 = 1s ... 18 = 2h) delays delivery.
 *  - `consume-from`: a new group starts from `last`, `first` or a timestamp as asked.
 *  - `route-expiry`: the route of a broker that stops heart-beating disappears (needs
 *    `broker-restart` or a way to stop a broker, and usually `virtual-time`).
 */
export type BrokerCapability =
  | 'tags'
  | 'keys'
  | 'query-by-id'
  | 'ordered-selector'
  | 'clustering'
  | 'broadcasting'
  | 'retry'
  | 'dead-letter'
  | 'delay-level'
  | 'consume-from'
  | 'route-expiry';

/** RocketMQ's default delay levels, index 1..18. */
export const DELAY_LEVELS_MS: readonly number[] = [
  1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000, 480_000, 540_000, 600_000,
  1_200_000, 1_800_000, 3_600_000, 7_200_000,
];

export interface QueueRef {
  broker: string;
  queueId: number;
}

export interface TopicRoute {
  topic: string;
  brokers: readonly { name: string; address: string }[];
  /** Every queue of the topic, across brokers. */
  queues: readonly QueueRef[];
}

export interface BrokerTopicSpec {
  /** Queues per broker (RocketMQ's writeQueueNums = readQueueNums). */
  queues: number;
  /** Brokers to create the topic on; default: all. */
  brokers?: readonly string[];
}

export interface OutgoingMessage {
  /** Harness message id (a user property is the natural place; it is not the msgId). */
  id: string;
  topic: string;
  tags?: string;
  keys?: readonly string[];
  body?: Body;
  properties?: Readonly<Record<string, string>>;
  /** 1..18, see DELAY_LEVELS_MS (capability `delay-level`). */
  delayLevel?: number;
}

export interface SendOptions {
  /** Ordered messages: equal sharding keys go to one queue (capability `ordered-selector`). */
  shardingKey?: string;
  /** Send to exactly this queue. */
  queue?: QueueRef;
}

export type SendStatus = 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SendResult {
  id: string;
  status: SendStatus;
  /** Locates the message (broker + CommitLog offset); for `queryById`. */
  msgId: string;
  broker: string;
  queueId: number;
  queueOffset: number;
}

/** A message as a consumer (or a query) sees it. */
export interface ReceivedMessage {
  id: string;
  msgId: string;
  /** The topic the message was sent to (the original topic for a retried message). */
  topic: string;
  tags: string | null;
  keys: readonly string[];
  body: Body | null;
  properties: Readonly<Record<string, string>>;
  broker: string;
  queueId: number;
  /** Offset in the queue it was consumed from (the retry queue's offset for a retry). */
  queueOffset: number;
  /** 0 on the first delivery; +1 on each RECONSUME_LATER redelivery. */
  reconsumeTimes: number;
  bornTimestamp: number;
  storeTimestamp: number;
}

export type MessageModel = 'CLUSTERING' | 'BROADCASTING';

export type ConsumeFrom = { from: 'last' } | { from: 'first' } | { from: 'timestamp'; timestamp: number };

export interface BrokerConsumerOptions {
  group: string;
  model: MessageModel;
  /** Stable instance name: broadcasting offsets are kept per instance, clustering members are told apart. */
  instanceName: string;
  /** Where a group with no stored offset starts. Default `{from: 'last'}`. */
  consumeFrom?: ConsumeFrom;
  /** Default 16. After that many RECONSUME_LATER the message goes to `%DLQ%<group>`. */
  maxReconsumeTimes?: number;
  /** Consume each queue in order (one message of a queue in flight at a time). */
  orderly?: boolean;
}

export type ConsumeStatus = 'CONSUME_SUCCESS' | 'RECONSUME_LATER';

export interface ReceiveOptions {
  maxMessages: number;
  timeoutMs: number;
}

export interface BrokerProducer {
  send(message: OutgoingMessage, options?: SendOptions): Promise<SendResult>;
  close(): Promise<void>;
}

export interface BrokerConsumer {
  /** Subscribes to `topic` with `expression` (`*`, `TagA`, `TagA || TagB`). Call before `start`. */
  subscribe(topic: string, expression: string): Promise<void>;
  /** Registers with the group (rebalance in CLUSTERING) and starts fetching. */
  start(): Promise<void>;
  /** Messages ready for this consumer, at most `maxMessages`; [] after `timeoutMs` with none. */
  receive(options: ReceiveOptions): Promise<ReceivedMessage[]>;
  /**
   * The listener's verdict for one received message (by `msgId` as received). CONSUME_SUCCESS
   * lets the consume offset move past it; RECONSUME_LATER sends it back for a later retry.
   */
  settle(message: ReceivedMessage, status: ConsumeStatus): Promise<void>;
  /** Persists consume offsets and leaves the group (rebalance). */
  shutdown(): Promise<void>;
  /** Killed process: no offset persisted since the last periodic persist, no unregister. */
  crash(): Promise<void>;
}

export interface BrokerAdapter extends AdapterBase<'rocketmq', BrokerCapability> {
  createTopic(topic: string, spec: BrokerTopicSpec): Promise<void>;
  /** Asks the nameserver. Throws for an unknown topic. */
  route(topic: string): Promise<TopicRoute>;
  producer(options: { group: string }): Promise<BrokerProducer>;
  consumer(options: BrokerConsumerOptions): Promise<BrokerConsumer>;
  /** Capability `query-by-id`; null when no such message. */
  queryById(topic: string, msgId: string): Promise<ReceivedMessage | null>;
  /** Capability `keys`: messages of `topic` carrying `key`. */
  queryByKey(topic: string, key: string): Promise<ReceivedMessage[]>;
}
