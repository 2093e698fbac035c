import { isMqlabError } from '../errors';
import type { PutResult } from './broker-api';
import { clientIdOf, defaultInstanceName, MQClient } from './client';
import { MAX_MESSAGE_SIZE } from './constants';
import { RocketErrors } from './errors';
import type { MessageExt, MessageInit, MessageQueue } from './message';
import { addressPrefix, createMessageId } from './message-id';
import type { Transport } from './transport';
import { checkGroup, checkMessageQueue, checkTopic } from './validators';

export type SendStatus = 'SEND_OK';

/** Picks the queue for an ordered message (RocketMQ `MessageQueueSelector`). */
export type MessageQueueSelector = (mqs: readonly MessageQueue[], msg: MessageInit, arg: unknown) => MessageQueue;

/** Same argument → same queue: the selector for ordered messages by key (hash of `arg`). */
export const selectByHash: MessageQueueSelector = (mqs, _msg, arg) => {
  const s = String(arg);
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return mqs[Math.abs(h) % mqs.length]!;
};

/** RocketMQ `SendResult`. For a batch, `msgId` lists every id, comma-separated (as Java does). */
export class SendResult {
  readonly sendStatus: SendStatus = 'SEND_OK';
  readonly messageQueue: MessageQueue;
  readonly queueOffset: number;
  private ids: string[] | undefined;

  constructor(topic: string, private readonly put: PutResult) {
    this.messageQueue = { topic, brokerName: put.brokerName, queueId: put.queueId };
    this.queueOffset = put.queueOffset;
  }

  get queueId(): number {
    return this.put.queueId;
  }

  /** One id per message sent: broker address + CommitLog offset. */
  get msgIds(): string[] {
    if (!this.ids) {
      const prefix = addressPrefix(this.put.storeHost);
      this.ids = this.put.positions.map((p) => createMessageId(prefix, p));
    }
    return this.ids;
  }

  get msgId(): string {
    return this.msgIds.join(',');
  }

  /** Same as msgId here: the engine's ids are offset ids. */
  get offsetMsgId(): string {
    return this.msgId;
  }

  toJSON(): Record<string, unknown> {
    return { sendStatus: this.sendStatus, msgId: this.msgId, messageQueue: this.messageQueue, queueId: this.queueId, queueOffset: this.queueOffset };
  }
}

export interface ProducerOptions {
  /** Producer group (RocketMQ `producerGroup`). */
  group: string;
  transport: Transport;
  instanceName?: string;
  /** Retries on another queue when a broker is unavailable (RocketMQ `retryTimesWhenSendFailed`). Default 2. */
  retryTimesWhenSendFailed?: number;
  /** Largest body (bytes). Default 4 MiB. */
  maxMessageSize?: number;
}

/**
 * RocketMQ's DefaultMQProducer: looks routes up on the NameServer, picks a queue round-robin
 * across every broker's queues (or with a selector for ordered messages), sends to the broker.
 */
export class Producer {
  readonly group: string;
  readonly clientId: string;
  readonly client: MQClient;
  private readonly maxMessageSize: number;
  private readonly retries: number;
  private readonly sendWhichQueue = new Map<string, number>();
  private running = false;

  constructor(options: ProducerOptions) {
    this.group = checkGroup(options.group);
    this.client = new MQClient(options.transport);
    this.clientId = clientIdOf(options.instanceName ?? defaultInstanceName());
    this.maxMessageSize = options.maxMessageSize ?? MAX_MESSAGE_SIZE;
    this.retries = options.retryTimesWhenSendFailed ?? 2;
  }

  async start(): Promise<void> {
    this.running = true;
  }

  async shutdown(): Promise<void> {
    this.running = false;
  }

  /** The queues a topic can be sent to (every broker's write queues). */
  async fetchPublishMessageQueues(topic: string): Promise<MessageQueue[]> {
    return [...(await this.client.route(topic)).writeQueues];
  }

  /**
   * send(msg) / send(msgs) — round robin; send(msg, mq) — that queue; send(msg, selector, arg) —
   * the queue the selector picks (ordered messages: same arg → same queue). A batch goes to one
   * queue and must share one topic.
   */
  async send(msg: MessageInit | readonly MessageInit[], target?: MessageQueue | MessageQueueSelector, arg?: unknown): Promise<SendResult> {
    if (!this.running) throw RocketErrors.notStarted(`producer ${this.group}`);
    const msgs: readonly MessageInit[] = Array.isArray(msg) ? msg : [msg as MessageInit];
    if (msgs.length === 0) throw RocketErrors.messageIllegal('a batch must contain at least one message');
    for (const m of msgs) if (m === null || typeof m !== 'object') throw RocketErrors.messageIllegal('message must be an object');
    // The batch's topic is checked once; every message must carry the same one.
    const topic = checkTopic(msgs[0]!.topic);
    for (const m of msgs) this.check(m, topic);
    if (target !== undefined && typeof target !== 'function') checkMessageQueue('message queue', target);
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      const info = (attempt === 0 ? this.client.cachedRoute(topic) : undefined) ?? (await this.client.route(topic, attempt > 0));
      const mqs = info.writeQueues;
      if (mqs.length === 0) throw RocketErrors.noRoute(topic);
      let mq: MessageQueue;
      if (typeof target === 'function') mq = checkMessageQueue('the queue the selector returned', target(mqs, msgs[0]!, arg));
      else if (target !== undefined) mq = target;
      else {
        const n = this.sendWhichQueue.get(topic) ?? Math.floor(Math.random() * mqs.length);
        this.sendWhichQueue.set(topic, n + 1);
        mq = mqs[n % mqs.length]!;
      }
      try {
        const broker = this.client.cachedBroker(mq) ?? (await this.client.brokerFor(mq));
        const put = await broker.sendMessage({ topic, queueId: mq.queueId, messages: msgs, producerGroup: this.group });
        return new SendResult(topic, put);
      } catch (e) {
        // Only an unreachable broker is worth another queue; a refused message is refused everywhere.
        if (!isMqlabError(e, 'SERVICE_NOT_AVAILABLE') || (target !== undefined && typeof target !== 'function')) throw e;
        lastError = e;
      }
    }
    throw lastError;
  }

  /** Fire and forget (RocketMQ `sendOneway`): errors are swallowed. */
  sendOneway(msg: MessageInit): void {
    this.send(msg).catch(() => undefined);
  }

  private check(m: MessageInit, topic: string): void {
    if (m === null || typeof m !== 'object') throw RocketErrors.messageIllegal('message must be an object');
    if (m.topic !== topic) {
      checkTopic(m.topic);
      throw RocketErrors.messageIllegal('every message of a batch must have the same topic');
    }
    const body = m.body;
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.length : -1;
    if (len < 0) throw RocketErrors.messageIllegal('message body must be a Uint8Array or a string');
    if (len === 0) throw RocketErrors.messageIllegal('message body length is zero');
    if (len > this.maxMessageSize) throw RocketErrors.messageIllegal(`the message body size over max value, MAX: ${this.maxMessageSize}`, { size: len, max: this.maxMessageSize });
  }

  viewMessage(msgId: string): Promise<MessageExt> {
    return this.client.viewMessage(msgId);
  }

  queryMessage(topic: string, key: string, maxNum?: number, begin?: number, end?: number): Promise<MessageExt[]> {
    return this.client.queryMessage(topic, key, maxNum, begin, end);
  }
}
