/**
 * The history vocabulary: what the harness records and the checker reads.
 *
 * Like Jepsen, each operation is an `invoke` followed by one completion: `ok` (it happened),
 * `fail` (it certainly did not happen) or `info` (unknown: timed out or crashed; it may have
 * happened). Observations that have no invocation of their own (a push delivery, a drain mark)
 * are recorded as an invoke/ok pair at the same instant.
 *
 * The vocabulary is model-neutral; the recording wrappers (conformance/suites/recording/)
 * translate each model's calls into it:
 *
 *   f            value (on ok, except where marked)                 meaning
 *   subscribe    Subscription                                        a consumer joins a target
 *   send         {messages: SentMessage[]}  (invoke: {messages: SendRequest[]})
 *   poll         {consumer, messages: Delivered[]}                  deliveries to a consumer
 *   ack          {consumer, ids}                   (on invoke)       positive settle (ack, CONSUME_SUCCESS)
 *   nack         {consumer, ids, requeue}          (on invoke)       negative settle (nack/reject, RECONSUME_LATER)
 *   commit       {consumer, group, offsets: {stream, offset}[]}      next offset to read, per stream
 *   seek         {consumer, group, stream, offset}
 *   crash        {consumer}                        (on invoke)       consumer killed
 *   close        {consumer}                        (on invoke)       consumer left cleanly
 *   restart      {}                                                  broker restarted
 *   drain        {targets}                                           targets read to quiescence here
 *   other names  anything                                            recorded, ignored by the checker
 *
 * Targets. A message is "delivered to a target": a consumer group in cluster mode (a Kafka group,
 * a RocketMQ CLUSTERING group, a RabbitMQ queue whose consumers compete), or one member of a
 * broadcast group (`group@member`). Streams are the ordered units: a Kafka partition
 * (`topic/partition`), a RocketMQ queue (`topic/broker/queueId`), a RabbitMQ queue.
 */

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface Op {
  /** Position in the history (0-based, in time order). */
  index: number;
  /** Monotonic nanoseconds since the run started. */
  time: number;
  /** Who did it: a producer, a consumer, the suite itself ('suite'). */
  process: string;
  type: OpType;
  f: string;
  value: unknown;
  /** On fail / info: what went wrong. */
  error?: { code: string; message: string };
}

export type GroupMode = 'cluster' | 'broadcast';
/** How deliveries are settled: per-message ack, auto-ack on delivery, or committed offsets. */
export type AckMode = 'manual' | 'auto' | 'offset';

export interface Subscription {
  consumer: string;
  /** Stable member name (RocketMQ instanceName, Kafka client id); defaults to `consumer`. */
  member?: string;
  group: string;
  mode: GroupMode;
  /** What the consumer reads: a topic, or a queue name for the queue model. */
  topic: string;
  /** Tag filter; absent or empty = everything (`*`). */
  tags?: string[];
  ack: AckMode;
  /** Total deliveries of one message allowed to this target (delivery limit + 1). */
  maxDeliveries?: number;
}

export interface SendRequest {
  id: string;
  /** Topic, or exchange for the queue model. */
  topic: string;
  key?: string | null;
  tags?: string | null;
  /**
   * Targets that must receive this message, when the suite knows them (queue model routing,
   * late-joining groups). Without it: every target subscribed to `topic` before the send.
   */
  expect?: string[];
  /** The suite routes this message nowhere: any delivery is `unroutable-delivered`. */
  unroutable?: boolean;
  /** Fire-and-forget (acks 0): losing it is allowed. */
  mayLose?: boolean;
  /** Delayed delivery: excluded from order checks. */
  delayed?: boolean;
}

export interface SentMessage {
  id: string;
  stream?: string;
  offset?: number | null;
  /** The broker returned it as unroutable. */
  returned?: boolean;
  /** A negative publisher confirm: not written. */
  nacked?: boolean;
  /**
   * Published without confirms: the call resolved once the message was written to the client
   * socket, so its order relative to other publishers' later sends is not established.
   */
  unconfirmed?: boolean;
}

export interface Delivered {
  id: string;
  stream: string;
  offset?: number;
  redelivered?: boolean;
  /** Auto-acked on delivery (pull with noAck). Overrides the subscription's ack mode. */
  autoAck?: boolean;
  /** A retry (RocketMQ reconsumeTimes > 0): excluded from first-delivery order checks. */
  retry?: boolean;
  tags?: string | null;
}

/** The target a consumer's deliveries count towards. */
export function targetOf(sub: Subscription): string {
  return sub.mode === 'broadcast' ? `${sub.group}@${sub.member ?? sub.consumer}` : sub.group;
}
