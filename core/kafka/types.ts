/** Public shapes of the Kafka engine's API (names follow Kafka's clients: topic, partition, offset…). */

export type Bytes = Buffer | Uint8Array | string;

/** Record headers as a plain object, like KafkaJS: name → value (null allowed). */
export type Headers = Record<string, Bytes | null | undefined>;

export interface Message {
  key?: Bytes | null;
  value: Bytes | null;
  headers?: Headers;
  /** CreateTime, ms since the epoch. Default: the engine clock at send. */
  timestamp?: number;
  /** Explicit partition; otherwise the partitioner decides (murmur2 of the key, or sticky). */
  partition?: number;
}

/** 0: fire and forget; 1: appended to the partition log; 'all' (-1): durable on disk before resolve. */
export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerRecord {
  topic: string;
  messages: readonly Message[];
  acks?: Acks;
}

/** One result per partition written by a send (KafkaJS's RecordMetadata). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Offset of the first record written to this partition by the send (-1 with acks 0, as in Kafka). */
  baseOffset: number;
  /** Number of records written to this partition. */
  count: number;
  logAppendTime: number;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Decoded headers (a shared frozen empty object when the record has none). */
  headers: Readonly<Record<string, Buffer | null>>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';

export type AssignorName = 'range' | 'roundrobin' | 'sticky';
