import type { MessageExt, MessageInit } from './message';

/**
 * The requests a client sends to a broker (RocketMQ's remoting commands, as method calls).
 * A `BrokerApi` is the broker itself in process, or a proxy over the RPC bridge on a worker
 * thread, so every method may return a value or a promise.
 */
export type MessageModel = 'CLUSTERING' | 'BROADCASTING';
export type ConsumeFromWhere = 'CONSUME_FROM_LAST_OFFSET' | 'CONSUME_FROM_FIRST_OFFSET' | 'CONSUME_FROM_TIMESTAMP';
export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

/** Read / write permissions of a topic on a broker (RocketMQ `PermName`). */
export const PERM_READ = 4;
export const PERM_WRITE = 2;

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
}

export interface SendRequest {
  topic: string;
  queueId: number;
  messages: readonly MessageInit[];
  producerGroup?: string;
  bornTimestamp?: number;
}

export interface PutResult {
  brokerName: string;
  storeHost: string;
  queueId: number;
  /** Queue offset of the first message. */
  queueOffset: number;
  /** CommitLog offset of each message. */
  positions: number[];
}

export interface PullRequest {
  group: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  maxMsgNums: number;
  /** Tag expression; `*` or undefined for all. */
  subExpression?: string;
  /** Long polling: wait this long (ms) for a message when none is there. */
  suspendMs?: number;
}

export interface PullResult {
  pullStatus: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  msgFoundList: MessageExt[];
}

/** A pull result whose messages are raw CommitLog records: `meta` holds (position, store timestamp, store size) per message. */
export interface RawPullResult extends Omit<PullResult, 'msgFoundList'> {
  brokerName: string;
  storeHost: string;
  data: Uint8Array;
  meta: Float64Array;
}

export interface SubscriptionSpec {
  topic: string;
  subString: string;
}

export interface ConsumerHeartbeat {
  clientId: string;
  group: string;
  messageModel: MessageModel;
  subscriptions: SubscriptionSpec[];
}

export interface GroupMembers {
  version: number;
  clientIds: string[];
}

export interface SendBackRequest {
  group: string;
  commitLogOffset: number;
  /** 0 = the broker picks 3 + reconsumeTimes; -1 = straight to the DLQ. */
  delayLevel: number;
  maxReconsumeTimes: number;
}

export interface QueueRef {
  topic: string;
  queueId: number;
}

export interface BrokerApi {
  sendMessage(req: SendRequest): PutResult | Promise<PutResult>;
  pullMessage(req: PullRequest): PullResult | Promise<PullResult>;
  pullMessageRaw(req: PullRequest): RawPullResult | Promise<RawPullResult>;
  queryConsumerOffset(group: string, topic: string, queueId: number): number | Promise<number>;
  updateConsumerOffset(group: string, topic: string, queueId: number, offset: number): void | Promise<void>;
  heartbeat(hb: ConsumerHeartbeat): void | Promise<void>;
  unregisterClient(clientId: string, group: string): void | Promise<void>;
  getConsumerIdList(group: string): string[] | Promise<string[]>;
  waitConsumerIdsChanged(group: string, knownVersion: number, timeoutMs: number): GroupMembers | Promise<GroupMembers>;
  lockBatchMQ(group: string, clientId: string, queues: QueueRef[]): QueueRef[] | Promise<QueueRef[]>;
  unlockBatchMQ(group: string, clientId: string, queues: QueueRef[]): void | Promise<void>;
  consumerSendMessageBack(req: SendBackRequest): void | Promise<void>;
  searchOffset(topic: string, queueId: number, timestamp: number): number | Promise<number>;
  getMaxOffset(topic: string, queueId: number): number | Promise<number>;
  getMinOffset(topic: string, queueId: number): number | Promise<number>;
  viewMessage(commitLogOffset: number): MessageExt | Promise<MessageExt>;
  queryMessage(topic: string, key: string, maxNum: number, begin: number, end: number): MessageExt[] | Promise<MessageExt[]>;
  createTopic(topic: string, queueNums: number): TopicConfig | Promise<TopicConfig>;
  getTopicConfig(topic: string): TopicConfig | Promise<TopicConfig>;
}
