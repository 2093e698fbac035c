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
  send(msg: MessageInit | readonly MessageInit[], target?: MessageQueue | MessageQueueSelector, arg?: unknown): Promise<SendResult> {
    // Not an async function: a send to a cached route whose broker answers synchronously (in
    // process) costs one settled promise, not an async frame per call.
    let msgs: readonly MessageInit[];
    let topic: string;
    try {
      if (!this.running) throw RocketErrors.notStarted(`producer ${this.group}`);
      msgs = Array.isArray(msg) ? msg : [msg as MessageInit];
      if (msgs.length === 0) throw RocketErrors.messageIllegal('a batch must contain at least one message');
      for (const m of msgs) if (m === null || typeof m !== 'object') throw RocketErrors.messageIllegal('message must be an object');
      // The batch's topic is checked once; every message must carry the same one.
      topic = this.checkedTopic(msgs[0]!.topic);
      for (const m of msgs) this.check(m, topic);
      if (target !== undefined && typeof target !== 'function') checkMessageQueue('message queue', target);
    } catch (e) {
      return Promise.reject(e);
    }
    const info = this.client.cachedRoute(topic);
    if (info === undefined || typeof target === 'function') return this.sendWithRetries(msgs, topic, target, arg, 0);
    let put: PutResult | Promise<PutResult>;
    try {
      const mq = target ?? this.nextQueue(topic, info.writeQueues);
      if (mq === undefined) throw RocketErrors.noRoute(topic);
      const broker = this.client.cachedBroker(mq);
      if (broker === undefined) return this.sendWithRetries(msgs, topic, target, arg, 0);
      put = broker.sendMessage({ topic, queueId: mq.queueId, messages: msgs, producerGroup: this.group });
    } catch (e) {
      if (!this.retryable(e, target)) return Promise.reject(e);
      return this.sendWithRetries(msgs, topic, target, arg, 1, e);
    }
    if (!(put instanceof Promise)) return Promise.resolve(new SendResult(topic, put));
    return put.then((p) => new SendResult(topic, p), (e: unknown) => {
      if (!this.retryable(e, target)) throw e;
      return this.sendWithRetries(msgs, topic, target, arg, 1, e);
    });
  }

  /** Round robin over a topic's write queues (starting at a random one). */
  private nextQueue(topic: string, mqs: readonly MessageQueue[]): MessageQueue | undefined {
    if (mqs.length === 0) return undefined;
    const n = this.sendWhichQueue.get(topic) ?? Math.floor(Math.random() * mqs.length);
    this.sendWhichQueue.set(topic, n + 1);
    return mqs[n % mqs.length]!;
  }

  /** Only an unreachable broker is worth another queue; a refused message is refused everywhere. */
  private retryable(e: unknown, target: MessageQueue | MessageQueueSelector | undefined): boolean {
    return isMqlabError(e, 'SERVICE_NOT_AVAILABLE') && (target === undefined || typeof target === 'function');
  }

  /** The send with route lookups and retries on another queue (attempts from `firstAttempt`). */
  private async sendWithRetries(msgs: readonly MessageInit[], topic: string, target: MessageQueue | MessageQueueSelector | undefined, arg: unknown,
    firstAttempt: number, firstError?: unknown): Promise<SendResult> {
    let lastError: unknown = firstError;
    for (let attempt = firstAttempt; attempt <= this.retries; attempt++) {
      const info = (attempt === 0 ? this.client.cachedRoute(topic) : undefined) ?? (await this.client.route(topic, attempt > 0));
      const mqs = info.writeQueues;
      if (mqs.length === 0) throw RocketErrors.noRoute(topic);
      let mq: MessageQueue;
      if (typeof target === 'function') mq = checkMessageQueue('the queue the selector returned', target(mqs, msgs[0]!, arg));
      else if (target !== undefined) mq = target;
      else mq = this.nextQueue(topic, mqs)!;
      try {
        const broker = this.client.cachedBroker(mq) ?? (await this.client.brokerFor(mq));
        const put = await broker.sendMessage({ topic, queueId: mq.queueId, messages: msgs, producerGroup: this.group });
        return new SendResult(topic, put);
      } catch (e) {
        if (!this.retryable(e, target)) throw e;
        lastError = e;
      }
    }
    throw lastError;
  }

  /** checkTopic, remembering the last name that passed (a producer sends to few topics). */
  private checkedTopic(topic: unknown): string {
    if (topic === this.lastTopic && typeof topic === 'string') return topic;
    const t = checkTopic(topic);
    this.lastTopic = t;
    return t;
  }

  private lastTopic: string | undefined;

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
