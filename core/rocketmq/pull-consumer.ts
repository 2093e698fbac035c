import type { MessageModel, PullResult } from './broker-api';
import { clientIdOf, defaultInstanceName, MQClient } from './client';
import { RocketErrors } from './errors';
import type { MessageExt, MessageQueue } from './message';
import { defaultOffsetStoreDir, LocalFileOffsetStore, RemoteBrokerOffsetStore, type OffsetStore } from './offset-store';
import { parseSubscription, tagMatches } from './subscription';
import type { Transport } from './transport';
import { checkGroup, checkInteger, checkMessageQueue } from './validators';

export interface PullConsumerOptions {
  group: string;
  transport: Transport;
  messageModel?: MessageModel;
  instanceName?: string;
  offsetStoreDir?: string;
}

/**
 * RocketMQ's simple pull consumer (DefaultMQPullConsumer): the caller picks queues and offsets,
 * pulls, and stores offsets itself. Tags are filtered at the broker and re-checked here.
 */
export class PullConsumer {
  readonly group: string;
  readonly clientId: string;
  readonly client: MQClient;
  private readonly offsetStore: OffsetStore;
  private running = false;

  constructor(options: PullConsumerOptions) {
    this.group = checkGroup(options.group);
    this.client = new MQClient(options.transport);
    this.clientId = clientIdOf(options.instanceName ?? defaultInstanceName());
    this.offsetStore = (options.messageModel ?? 'CLUSTERING') === 'CLUSTERING'
      ? new RemoteBrokerOffsetStore(this.client, this.group)
      : new LocalFileOffsetStore(options.offsetStoreDir ?? defaultOffsetStoreDir(), this.clientId, this.group);
  }

  async start(): Promise<void> {
    this.running = true;
  }

  async shutdown(): Promise<void> {
    if (!this.running) return;
    await this.offsetStore.persist();
    this.running = false;
  }

  async fetchSubscribeMessageQueues(topic: string): Promise<MessageQueue[]> {
    return [...(await this.client.route(topic, true)).readQueues];
  }

  /** Up to `maxNums` messages from `offset` matching `subExpression`; never waits. */
  pull(mq: MessageQueue, subExpression: string, offset: number, maxNums: number): Promise<PullResult> {
    return this.doPull(mq, subExpression, offset, maxNums, 0);
  }

  /** As pull, but waits up to `timeoutMs` for a message when the queue has none. */
  pullBlockIfNotFound(mq: MessageQueue, subExpression: string, offset: number, maxNums: number, timeoutMs = 5000): Promise<PullResult> {
    return this.doPull(mq, subExpression, offset, maxNums, timeoutMs);
  }

  private async doPull(mq: MessageQueue, subExpression: string, offset: number, maxNums: number, suspendMs: number): Promise<PullResult> {
    if (!this.running) throw RocketErrors.notStarted(`pull consumer ${this.group}`);
    checkMessageQueue('mq', mq);
    const sub = parseSubscription(mq.topic, subExpression);
    const broker = await this.client.brokerFor(mq);
    const res = await broker.pullMessage({ group: this.group, topic: mq.topic, queueId: mq.queueId, queueOffset: offset, maxMsgNums: maxNums, subExpression: sub.subString, suspendMs });
    if (res.pullStatus !== 'FOUND') return res;
    const kept = res.msgFoundList.filter((m: MessageExt) => tagMatches(sub, m.tags));
    return { ...res, pullStatus: kept.length ? 'FOUND' : 'NO_MATCHED_MSG', msgFoundList: kept };
  }

  async updateConsumeOffset(mq: MessageQueue, offset: number): Promise<void> {
    checkMessageQueue('mq', mq);
    checkInteger('offset', offset);
    await this.offsetStore.update(mq, offset);
  }

  /** The stored offset, or -1. */
  async fetchConsumeOffset(mq: MessageQueue): Promise<number> {
    checkMessageQueue('mq', mq);
    return this.offsetStore.read(mq);
  }

  async maxOffset(mq: MessageQueue): Promise<number> {
    return (await this.client.brokerFor(mq)).getMaxOffset(mq.topic, mq.queueId);
  }

  async minOffset(mq: MessageQueue): Promise<number> {
    return (await this.client.brokerFor(mq)).getMinOffset(mq.topic, mq.queueId);
  }

  async searchOffset(mq: MessageQueue, timestamp: number): Promise<number> {
    return (await this.client.brokerFor(mq)).searchOffset(mq.topic, mq.queueId, timestamp);
  }

  viewMessage(msgId: string): Promise<MessageExt> {
    return this.client.viewMessage(msgId);
  }

  queryMessage(topic: string, key: string, maxNum?: number, begin?: number, end?: number): Promise<MessageExt[]> {
    return this.client.queryMessage(topic, key, maxNum, begin, end);
  }
}
