/**
 * The log model (Kafka-like): topics split into partitions, each partition an ordered log whose
 * records get contiguous offsets; producers append (keyed records stay in one partition);
 * consumers in a group share the partitions, poll records and commit the next offset to read.
 *
 * Shape follows what a Kafka user knows (topic, partition, offset, key, value, headers,
 * timestamp; send / subscribe / poll / commit / seek) but stays small: the harness drives one
 * consumer per call, so `poll` returns records instead of running a callback loop. An adapter
 * over a callback client (kafkajs `eachBatch`) buffers records between polls.
 *
 * Offsets: a committed offset is the offset of the next record to read (Kafka's convention).
 */
import type { AdapterBase, Body } from './common';

/**
 *  - `acks-0`, `acks-1`, `acks-all`: the producer honours that acks setting (`acks-all` means
 *    "acked records are never lost", the one the lost-record checks rely on).
 *  - `keyed-partitioning`: same key -> same partition.
 *  - `explicit-partition`: `record.partition` is honoured.
 *  - `consumer-groups`: several consumers with one `groupId` share partitions (rebalance).
 *  - `manual-commit`: `commit()` with explicit offsets.
 *  - `seek`, `offsets-for-times`: the consumer methods of the same name.
 *  - `auto-offset-reset`: `autoOffsetReset` earliest / latest / none is honoured.
 *  - `retention`: `createTopic({retentionMs})` deletes old records (usually with `virtual-time`).
 *  - `headers`: record headers round-trip.
 */
export type LogCapability =
  | 'acks-0'
  | 'acks-1'
  | 'acks-all'
  | 'keyed-partitioning'
  | 'explicit-partition'
  | 'consumer-groups'
  | 'manual-commit'
  | 'seek'
  | 'offsets-for-times'
  | 'auto-offset-reset'
  | 'retention'
  | 'headers';

export type Acks = 0 | 1 | 'all';

export interface TopicSpec {
  partitions: number;
  /** Delete records older than this (Kafka `retention.ms`). Default: the implementation's. */
  retentionMs?: number;
  /** Delete oldest segments beyond this many bytes per partition (`retention.bytes`). */
  retentionBytes?: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

/** A record to produce. `id` is the harness' message id and must come back on every delivery. */
export interface ProduceRecord {
  id: string;
  key?: string | null;
  value?: Body | null;
  headers?: Readonly<Record<string, string>>;
  /** Explicit partition (capability `explicit-partition`); otherwise the partitioner decides. */
  partition?: number;
  /** Record timestamp in ms since the epoch; default: the implementation's clock. */
  timestamp?: number;
}

/**
 * Where a produced record landed. With `acks: 0` the implementation may not know the offset:
 * `offset` is then `null`.
 */
export interface ProduceResult {
  id: string;
  topic: string;
  partition: number;
  offset: number | null;
  timestamp: number;
}

/** A record as a consumer sees it. */
export interface ConsumedRecord {
  id: string;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Body | null;
  headers: Readonly<Record<string, string>>;
  timestamp: number;
}

export interface ProducerOptions {
  acks: Acks;
  /** Producer client id, for the implementation's logs. */
  clientId?: string;
}

export interface LogProducer {
  /**
   * Appends the records (in order) to `topic` and resolves after the `acks` setting is met.
   * Results come back in the same order as `records`.
   */
  send(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]>;
  close(): Promise<void>;
}

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

export interface ConsumerOptions {
  groupId: string;
  /** Stable client / instance name, used in the history as the member name. */
  clientId?: string;
  /** Where to start when the group has no committed offset. Default 'latest' (Kafka's). */
  autoOffsetReset?: AutoOffsetReset;
  /** A member silent this long is removed from the group (rebalance). */
  sessionTimeoutMs?: number;
}

export interface PollOptions {
  /** Return after at most this many records. */
  maxRecords: number;
  /** Wait at most this long for the first record; resolve with [] if none. */
  timeoutMs: number;
}

export interface LogConsumer {
  /** Joins the group and subscribes to `topics`; partitions are assigned by the implementation. */
  subscribe(topics: readonly string[]): Promise<void>;
  /**
   * Fetches records for the assigned partitions, starting at this consumer's position (the
   * committed offset after a join, or the reset policy). Also drives the group protocol (a
   * rebalance may happen inside a poll). Records of one partition come in offset order.
   */
  poll(options: PollOptions): Promise<ConsumedRecord[]>;
  /** The partitions currently assigned to this consumer. */
  assignment(): Promise<TopicPartition[]>;
  /**
   * Commits, for the group, the offset of the next record to read. Without an argument, commits
   * the position after the last record each assigned partition returned from `poll`.
   * A commit from a member that no longer owns the partition is rejected (throws).
   */
  commit(offsets?: readonly TopicPartitionOffset[]): Promise<void>;
  /** The group's committed offsets for these partitions (`null` = none yet). */
  committed(partitions: readonly TopicPartition[]): Promise<{ topic: string; partition: number; offset: number | null }[]>;
  /** Moves this consumer's position in one assigned partition (capability `seek`). */
  seek(target: TopicPartitionOffset): Promise<void>;
  /**
   * For each partition of `topic`, the earliest offset whose timestamp is >= `timestamp`, or
   * `null` if there is none (capability `offsets-for-times`).
   */
  offsetsForTime(topic: string, timestamp: number): Promise<{ partition: number; offset: number | null }[]>;
  /** Leaves the group cleanly (the group rebalances at once). Does not commit by itself. */
  close(): Promise<void>;
  /**
   * Drops the consumer as a killed process would: no commit, no leave-group. The group notices
   * by session timeout (or at once if the implementation can tell). Capability `consumer-crash`.
   */
  crash(): Promise<void>;
}

export interface LogAdapter extends AdapterBase<'kafka', LogCapability> {
  createTopic(topic: string, spec: TopicSpec): Promise<void>;
  deleteTopic(topic: string): Promise<void>;
  /** Earliest and next-to-write offsets of every partition of `topic`. */
  offsets(topic: string): Promise<{ partition: number; start: number; end: number }[]>;
  producer(options: ProducerOptions): Promise<LogProducer>;
  consumer(options: ConsumerOptions): Promise<LogConsumer>;
}
