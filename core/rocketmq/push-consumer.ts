import { allocateAveragely } from './allocate';
import type { BrokerApi, ConsumeFromWhere, MessageModel, PullRequest, PullResult } from './broker-api';
import { clientIdOf, defaultInstanceName, MQClient } from './client';
import { DEFAULT_MAX_RECONSUME_TIMES, PROPERTY_RETRY_TOPIC, isRetryTopic, retryTopicOf } from './constants';
import { RocketErrors } from './errors';
import { mqKey, type MessageExt, type MessageQueue } from './message';
import { defaultOffsetStoreDir, LocalFileOffsetStore, RemoteBrokerOffsetStore, type OffsetStore } from './offset-store';
import { parseSubscription, tagMatches, type SubscriptionData } from './subscription';
import type { Transport } from './transport';
import { checkGroup, checkTopic } from './validators';

export type ConsumeConcurrentlyStatus = 'CONSUME_SUCCESS' | 'RECONSUME_LATER';
export type ConsumeOrderlyStatus = 'SUCCESS' | 'SUSPEND_CURRENT_QUEUE_A_MOMENT';

export interface ConsumeConcurrentlyContext {
  messageQueue: MessageQueue;
  /** Delay level of the retry when the listener returns RECONSUME_LATER; 0 = 3 + reconsumeTimes. */
  delayLevelWhenNextConsume: number;
  /** Messages up to this index (in the list) succeeded even when RECONSUME_LATER is returned. */
  ackIndex: number;
}

export interface ConsumeOrderlyContext {
  messageQueue: MessageQueue;
  /** ms to wait before the same message is delivered again after SUSPEND_CURRENT_QUEUE_A_MOMENT. */
  suspendCurrentQueueTimeMillis: number;
}

export type MessageListenerConcurrently = (msgs: MessageExt[], ctx: ConsumeConcurrentlyContext) => ConsumeConcurrentlyStatus | Promise<ConsumeConcurrentlyStatus>;
export type MessageListenerOrderly = (msgs: MessageExt[], ctx: ConsumeOrderlyContext) => ConsumeOrderlyStatus | Promise<ConsumeOrderlyStatus>;

export interface PushConsumerOptions {
  /** Consumer group. */
  group: string;
  transport: Transport;
  messageModel?: MessageModel;
  /** Where a group with no stored offset starts. Default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhere;
  /** CONSUME_FROM_TIMESTAMP: ms since epoch. Default: half an hour before start. */
  consumeTimestamp?: number;
  /** RECONSUME_LATER this many times, then the DLQ. Default 16 (orderly: unlimited unless set). */
  maxReconsumeTimes?: number;
  /** Messages per pull. Default 32. */
  pullBatchSize?: number;
  /** Messages per listener call. Default 1. */
  consumeMessageBatchMaxSize?: number;
  /** Identifies this instance (clientId = 127.0.0.1@instanceName); BROADCASTING offsets are kept per instance. */
  instanceName?: string;
  /** BROADCASTING offsets directory. Default ~/.mqlab_rocketmq_offsets. */
  offsetStoreDir?: string;
  suspendCurrentQueueTimeMillis?: number;
  /** Long-poll wait of one pull (ms). Default 1000. */
  pollTimeoutMs?: number;
  /** Periodic rebalance (ms); joins and leaves also trigger one at once. Default 1000. */
  rebalanceIntervalMs?: number;
  /** Heartbeat to every broker (ms). Default 30000. */
  heartbeatIntervalMs?: number;
  clock?: () => number;
}

interface ProcessQueue {
  mq: MessageQueue;
  broker: BrokerApi;
  sub: SubscriptionData;
  nextOffset: number;
  dropped: boolean;
  /** A batch is being consumed (its listener call and offset store not finished yet). */
  consuming: boolean;
  /** Called when the batch being consumed is done and its offset stored (release waits on it). */
  idleWaiters: Array<() => void>;
  /** The offset last stored for this queue (so an unchanged one is not stored again). */
  storedOffset: number;
  /** The queue as listener contexts show it: one copy per queue, not one per call. */
  ctxQueue: MessageQueue;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * RocketMQ's DefaultMQPushConsumer on long-polling pulls. CLUSTERING: the group's queues are
 * allocated across its members (AllocateMessageQueueAveragely), offsets live on the broker, a
 * join or leave rebalances, and a queue changes owner only after the old owner stored its
 * offset (broker queue locks). BROADCASTING: every instance consumes every queue with its own
 * offsets in a local file. Each queue is consumed in order, one listener call at a time.
 */
export class PushConsumer {
  readonly group: string;
  readonly clientId: string;
  readonly messageModel: MessageModel;
  readonly client: MQClient;
  private readonly opts: PushConsumerOptions;
  private readonly subscriptions = new Map<string, SubscriptionData>();
  private readonly processQueues = new Map<string, ProcessQueue>();
  private readonly offsetStore: OffsetStore;
  private listener: MessageListenerConcurrently | undefined;
  private orderlyListener: MessageListenerOrderly | undefined;
  private running = false;
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private lockPending = false;
  private timers: NodeJS.Timeout[] = [];
  private groupVersion = -1;
  private startTimestamp = 0;

  constructor(options: PushConsumerOptions) {
    this.opts = options;
    this.group = checkGroup(options.group);
    this.messageModel = options.messageModel ?? 'CLUSTERING';
    if (this.messageModel !== 'CLUSTERING' && this.messageModel !== 'BROADCASTING') throw RocketErrors.invalid('messageModel', 'CLUSTERING or BROADCASTING');
    this.client = new MQClient(options.transport);
    this.clientId = clientIdOf(options.instanceName ?? defaultInstanceName());
    this.offsetStore = this.messageModel === 'CLUSTERING'
      ? new RemoteBrokerOffsetStore(this.client, this.group)
      : new LocalFileOffsetStore(options.offsetStoreDir ?? defaultOffsetStoreDir(), this.clientId, this.group);
  }

  /** Subscribes `topic` with a tag expression (`*`, `TagA || TagB`). */
  subscribe(topic: string, subExpression = '*'): void {
    this.subscriptions.set(checkTopic(topic), parseSubscription(topic, subExpression));
  }

  registerMessageListener(listener: MessageListenerConcurrently): void {
    if (typeof listener !== 'function') throw RocketErrors.invalid('message listener', 'a function');
    this.listener = listener;
    this.orderlyListener = undefined;
  }

  registerMessageListenerOrderly(listener: MessageListenerOrderly): void {
    if (typeof listener !== 'function') throw RocketErrors.invalid('message listener', 'a function');
    this.orderlyListener = listener;
    this.listener = undefined;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Queues this instance consumes now. */
  allocatedQueues(): MessageQueue[] {
    return [...this.processQueues.values()].map((pq) => ({ ...pq.mq }));
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (!this.listener && !this.orderlyListener) throw RocketErrors.invalid('message listener', 'registered before start()');
    if (this.subscriptions.size === 0) throw RocketErrors.invalid('subscription', 'set with subscribe() before start()');
    const clock = this.opts.clock ?? Date.now;
    this.startTimestamp = clock();
    for (const topic of this.subscriptions.keys()) await this.client.route(topic, true);
    this.running = true;
    await this.sendHeartbeat();
    if (this.messageModel === 'CLUSTERING') {
      const retry = retryTopicOf(this.group);
      this.subscriptions.set(retry, parseSubscription(retry, '*'));
      await this.client.route(retry, true);
    }
    await this.rebalance();
    const every = (ms: number, f: () => unknown) => {
      const t = setInterval(() => {
        if (this.running) Promise.resolve(f()).catch(() => undefined);
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.rebalanceIntervalMs ?? 1000, () => this.rebalance(true));
    every(this.opts.heartbeatIntervalMs ?? 30_000, () => this.sendHeartbeat());
    if (this.messageModel === 'CLUSTERING') void this.watchGroup();
  }

  /** Tells every broker of the subscribed topics that this instance is alive. */
  async sendHeartbeat(): Promise<void> {
    if (!this.running) return;
    const hb = {
      clientId: this.clientId,
      group: this.group,
      messageModel: this.messageModel,
      subscriptions: [...this.subscriptions.values()].map((s) => ({ topic: s.topic, subString: s.subString })),
    };
    for (const b of await this.allBrokers()) await b.heartbeat(hb);
  }

  private async allBrokers(): Promise<BrokerApi[]> {
    const seen = new Map<BrokerApi, true>();
    for (const topic of this.subscriptions.keys()) {
      try {
        for (const b of await this.client.brokersOf(topic)) seen.set(b, true);
      } catch {
        // A topic without route now (its brokers expired) has no broker to tell.
      }
    }
    return [...seen.keys()];
  }

  /** Long-polls the group's member list; a change (join, leave, expiry) triggers a rebalance. */
  private async watchGroup(): Promise<void> {
    while (this.running) {
      try {
        const [b] = await this.client.brokersOf([...this.subscriptions.keys()][0]!);
        if (!b) throw RocketErrors.brokerNotFound('any');
        const m = await b.waitConsumerIdsChanged(this.group, this.groupVersion, 1000);
        if (!this.running) return;
        if (m.version !== this.groupVersion) {
          this.groupVersion = m.version;
          await this.rebalance(true);
        }
      } catch {
        if (this.running) await sleep(200);
      }
    }
  }

  /** Recomputes which queues this instance owns, releasing and taking queues as needed. */
  async rebalance(refreshRoutes = false): Promise<void> {
    if (!this.running) return;
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      do {
        this.rebalanceAgain = false;
        await this.rebalanceOnce(refreshRoutes);
      } while (this.rebalanceAgain && this.running);
    })().finally(() => {
      this.rebalancing = undefined;
    });
    return this.rebalancing;
  }

  private async rebalanceOnce(refreshRoutes: boolean): Promise<void> {
    const desired = new Map<string, MessageQueue>();
    let rejoined = false;
    for (const topic of this.subscriptions.keys()) {
      let mqs: MessageQueue[];
      try {
        mqs = (await this.client.route(topic, refreshRoutes)).readQueues;
      } catch {
        continue; // no route (yet, or its brokers are gone): nothing to own for this topic
      }
      let mine = mqs;
      if (this.messageModel === 'CLUSTERING') {
        const [b] = await this.client.brokersOf(topic);
        if (!b) continue;
        const cids = await b.getConsumerIdList(this.group);
        if (!cids.includes(this.clientId)) {
          // Not a member (yet, or expired after late heartbeats): join again now. An expired
          // member's queue locks went with it, so the queues still held are locked again below.
          await this.sendHeartbeat();
          rejoined = true;
          cids.push(this.clientId);
          cids.sort();
        }
        mine = allocateAveragely(this.clientId, mqs, cids);
      }
      for (const mq of mine) desired.set(mqKey(mq), mq);
    }
    for (const [k, pq] of [...this.processQueues]) if (!desired.has(k)) await this.release(pq);
    this.lockPending = false;
    if (rejoined) {
      for (const pq of [...this.processQueues.values()]) {
        if (!this.running) break;
        const locked = await pq.broker.lockBatchMQ(this.group, this.clientId, [{ topic: pq.mq.topic, queueId: pq.mq.queueId }]);
        if (locked.length > 0) continue;
        // Another member took it while this one was expired: stop (its offset is the new
        // owner's now) and take it back once the owner lets go.
        await this.release(pq, false);
        this.lockPending = true;
      }
    }
    for (const [k, mq] of desired) {
      if (this.processQueues.has(k) || !this.running) continue;
      const broker = await this.client.brokerFor(mq);
      if (this.messageModel === 'CLUSTERING') {
        const locked = await broker.lockBatchMQ(this.group, this.clientId, [{ topic: mq.topic, queueId: mq.queueId }]);
        if (locked.length === 0) {
          this.lockPending = true; // the previous owner has not let go yet
          continue;
        }
      }
      const offset = await this.computePullFromWhere(mq, broker);
      const pq: ProcessQueue = {
        mq, broker, sub: this.subscriptions.get(mq.topic)!, nextOffset: offset, dropped: false, consuming: false, idleWaiters: [], storedOffset: offset, ctxQueue: { ...mq },
      };
      this.processQueues.set(k, pq);
      void this.pullLoop(pq).catch(() => this.forget(pq));
    }
    if (this.lockPending && this.running) {
      const t = setTimeout(() => void this.rebalance().catch(() => undefined), 20);
      t.unref();
    }
  }

  /**
   * Where a newly owned queue starts: the stored offset, else the consume-from policy — which is
   * then stored at once, so the group's starting point on every queue it owned survives restarts
   * even before anything is consumed there.
   */
  private async computePullFromWhere(mq: MessageQueue, broker: BrokerApi): Promise<number> {
    const stored = await this.offsetStore.read(mq);
    if (stored >= 0) return stored;
    const start = await this.startOffset(mq, broker);
    await this.offsetStore.update(mq, start);
    return start;
  }

  private async startOffset(mq: MessageQueue, broker: BrokerApi): Promise<number> {
    switch (this.opts.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET') {
      case 'CONSUME_FROM_FIRST_OFFSET':
        return broker.getMinOffset(mq.topic, mq.queueId);
      case 'CONSUME_FROM_TIMESTAMP':
        if (isRetryTopic(mq.topic)) return broker.getMaxOffset(mq.topic, mq.queueId);
        return broker.searchOffset(mq.topic, mq.queueId, this.opts.consumeTimestamp ?? this.startTimestamp - 30 * 60_000);
      default:
        return isRetryTopic(mq.topic) ? 0 : broker.getMaxOffset(mq.topic, mq.queueId);
    }
  }

  private async release(pq: ProcessQueue, commit = true): Promise<void> {
    pq.dropped = true;
    this.processQueues.delete(mqKey(pq.mq));
    if (pq.consuming) await new Promise<void>((r) => pq.idleWaiters.push(r));
    if (!commit) return;
    await this.offsetStore.persist().catch(() => undefined);
    if (this.messageModel === 'CLUSTERING') {
      await Promise.resolve(pq.broker.unlockBatchMQ(this.group, this.clientId, [{ topic: pq.mq.topic, queueId: pq.mq.queueId }])).catch(() => undefined);
    }
  }

  /**
   * A pull loop that failed unexpectedly gives its queue up, so the next rebalance takes it again
   * from the stored offset: a queue is never left owned with nothing pulling it.
   */
  private forget(pq: ProcessQueue): void {
    pq.dropped = true;
    const k = mqKey(pq.mq);
    if (this.processQueues.get(k) === pq) this.processQueues.delete(k);
  }

  /**
   * Pulls one queue until it is dropped. The hot path allocates little per message: one request
   * object per queue, reused (the broker is done with it once the pull settles); in process a
   * pull that finds messages answers synchronously and the offset store is a plain call.
   */
  private async pullLoop(pq: ProcessQueue): Promise<void> {
    const req: PullRequest = {
      group: this.group, topic: pq.mq.topic, queueId: pq.mq.queueId, queueOffset: pq.nextOffset, maxMsgNums: this.opts.pullBatchSize ?? 32,
      subExpression: pq.sub.subString, suspendMs: this.opts.pollTimeoutMs ?? 1000,
    };
    while (!pq.dropped && this.running) {
      let res: PullResult;
      let waited = false;
      try {
        req.queueOffset = pq.nextOffset;
        const r = pq.broker.pullMessage(req);
        if (r instanceof Promise) {
          waited = true;
          res = await r;
        } else res = r;
      } catch {
        if (pq.dropped || !this.running) return;
        await sleep(100); // broker unavailable: the next rebalance moves on if it is gone
        try {
          pq.broker = this.client.cachedBroker(pq.mq) ?? pq.broker; // a restarted broker is a new endpoint
        } catch {
          // still down: keep trying
        }
        continue;
      }
      if (pq.dropped || !this.running) return;
      if (res.pullStatus === 'FOUND') {
        pq.consuming = true;
        try {
          const busy = this.consumeBatch(pq, res);
          if (busy !== undefined) await busy;
        } finally {
          pq.consuming = false;
          if (pq.idleWaiters.length > 0) for (const w of pq.idleWaiters.splice(0)) w();
        }
        // A pull that finds messages answers at once, so without this a busy queue would keep the
        // event loop in microtasks and starve producers, the dispatcher and timers on this thread.
        // A pull that waited (long polling) already went round the event loop.
        if (!waited) await yieldToLoop();
      } else if (res.pullStatus !== 'NO_NEW_MSG') {
        pq.nextOffset = res.nextBeginOffset;
        await this.storeOffset(pq, pq.nextOffset);
      }
    }
  }

  /** Stores a queue's offset unless unchanged; a promise only when the store crossed a thread. */
  private storeOffset(pq: ProcessQueue, offset: number): Promise<void> | undefined {
    if (offset === pq.storedOffset) return undefined;
    pq.storedOffset = offset;
    return this.offsetStore.updateQuietly(pq.mq, offset, pq.broker);
  }

  /**
   * Consumes one pulled batch in order; stores the offset after each listener call. Runs
   * synchronously (returns undefined) while the listener and the offset store do; otherwise
   * continues asynchronously and returns the promise of the rest.
   */
  private consumeBatch(pq: ProcessQueue, res: PullResult): Promise<void> | undefined {
    const found = res.msgFoundList;
    const msgs = pq.sub.all ? found : found.filter((m) => tagMatches(pq.sub, m.tags));
    const step = this.orderlyListener ? 1 : Math.max(1, this.opts.consumeMessageBatchMaxSize ?? 1);
    for (let i = 0; i < msgs.length; i += step) {
      if (pq.dropped || !this.running) return undefined;
      const chunk = step >= msgs.length ? msgs : msgs.slice(i, i + step);
      const nextOffset = chunk[chunk.length - 1]!.queueOffset + 1;
      for (let j = 0; j < chunk.length; j++) restoreRetryTopic(chunk[j]!);
      const consumed = this.orderlyListener ? this.consumeOrderly(pq, chunk) : this.consumeConcurrently(pq, chunk);
      if (consumed !== undefined) return this.finishBatchAsync(pq, res, msgs, step, i, consumed, nextOffset);
      // A listener that returns after shutdown() or crash() began does not move the offset: the
      // next owner consumes the chunk again (RocketMQ skips the offset update of a dropped queue).
      if (!this.running) return undefined;
      pq.nextOffset = nextOffset;
      const stored = this.storeOffset(pq, nextOffset);
      if (stored !== undefined) return this.finishBatchAsync(pq, res, msgs, step, i + step, stored, -1);
    }
    if (!this.running) return undefined;
    pq.nextOffset = res.nextBeginOffset;
    return this.storeOffset(pq, pq.nextOffset);
  }

  /** The rest of consumeBatch once something in it went asynchronous (awaits `pending` first). */
  private async finishBatchAsync(pq: ProcessQueue, res: PullResult, msgs: MessageExt[], step: number, from: number, pending: Promise<void>, chunkNextOffset: number): Promise<void> {
    await pending;
    let i = from;
    if (chunkNextOffset >= 0) {
      // `pending` was the listener call of the chunk at `from`.
      if (!this.running) return;
      pq.nextOffset = chunkNextOffset;
      await this.storeOffset(pq, chunkNextOffset);
      i += step;
    }
    for (; i < msgs.length; i += step) {
      if (pq.dropped || !this.running) return;
      const chunk = msgs.slice(i, i + step);
      const nextOffset = chunk[chunk.length - 1]!.queueOffset + 1;
      for (let j = 0; j < chunk.length; j++) restoreRetryTopic(chunk[j]!);
      if (this.orderlyListener) await this.consumeOrderly(pq, chunk);
      else await this.consumeConcurrently(pq, chunk);
      if (!this.running) return;
      pq.nextOffset = nextOffset;
      await this.storeOffset(pq, nextOffset);
    }
    if (!this.running) return;
    pq.nextOffset = res.nextBeginOffset;
    await this.storeOffset(pq, pq.nextOffset);
  }

  /** One listener call; undefined when it finished synchronously with nothing to send back. */
  private consumeConcurrently(pq: ProcessQueue, chunk: MessageExt[]): Promise<void> | undefined {
    const ctx: ConsumeConcurrentlyContext = { messageQueue: pq.ctxQueue, delayLevelWhenNextConsume: 0, ackIndex: -1 };
    let status: ConsumeConcurrentlyStatus | PromiseLike<ConsumeConcurrentlyStatus>;
    try {
      status = this.listener!(chunk, ctx);
    } catch {
      status = 'RECONSUME_LATER';
    }
    if (isThenable(status)) return this.afterConcurrently(pq, chunk, ctx, status);
    if (status === 'CONSUME_SUCCESS' || !this.running) return undefined;
    return this.sendBack(pq, chunk, ctx);
  }

  private async afterConcurrently(pq: ProcessQueue, chunk: MessageExt[], ctx: ConsumeConcurrentlyContext, pending: PromiseLike<ConsumeConcurrentlyStatus>): Promise<void> {
    let status: ConsumeConcurrentlyStatus;
    try {
      status = await pending;
    } catch {
      status = 'RECONSUME_LATER';
    }
    if (status === 'CONSUME_SUCCESS' || !this.running) return;
    await this.sendBack(pq, chunk, ctx);
  }

  /** RECONSUME_LATER: the messages after ctx.ackIndex go back to the broker (retry topic or DLQ). */
  private async sendBack(pq: ProcessQueue, chunk: MessageExt[], ctx: ConsumeConcurrentlyContext): Promise<void> {
    if (this.messageModel === 'BROADCASTING') return; // RocketMQ drops failed broadcast messages
    const maxTimes = this.opts.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES;
    for (let j = ctx.ackIndex + 1; j < chunk.length; j++) {
      const m = chunk[j]!;
      // Sent back until the broker accepts it; consuming again locally is the fallback RocketMQ uses too.
      for (;;) {
        try {
          await pq.broker.consumerSendMessageBack({ group: this.group, commitLogOffset: m.commitLogOffset, delayLevel: ctx.delayLevelWhenNextConsume, maxReconsumeTimes: maxTimes });
          break;
        } catch {
          if (!this.running || pq.dropped) return;
          await sleep(100);
        }
      }
    }
  }

  /** One orderly listener call (retried in place); undefined when it succeeded synchronously. */
  private consumeOrderly(pq: ProcessQueue, chunk: MessageExt[]): Promise<void> | undefined {
    const ctx: ConsumeOrderlyContext = { messageQueue: { ...pq.mq }, suspendCurrentQueueTimeMillis: this.opts.suspendCurrentQueueTimeMillis ?? 1000 };
    let status: ConsumeOrderlyStatus | PromiseLike<ConsumeOrderlyStatus>;
    try {
      status = this.orderlyListener!(chunk, ctx);
    } catch {
      status = 'SUSPEND_CURRENT_QUEUE_A_MOMENT';
    }
    if (!isThenable(status) && (status === 'SUCCESS' || !this.running || pq.dropped)) return undefined;
    return this.consumeOrderlyAsync(pq, chunk, ctx, status);
  }

  private async consumeOrderlyAsync(pq: ProcessQueue, chunk: MessageExt[], ctx: ConsumeOrderlyContext,
    first: ConsumeOrderlyStatus | PromiseLike<ConsumeOrderlyStatus>): Promise<void> {
    const maxTimes = this.opts.maxReconsumeTimes ?? Number.MAX_SAFE_INTEGER;
    const suspend = this.opts.suspendCurrentQueueTimeMillis ?? 1000;
    let pending: ConsumeOrderlyStatus | PromiseLike<ConsumeOrderlyStatus> | undefined = first;
    for (;;) {
      let status: ConsumeOrderlyStatus;
      try {
        if (pending === undefined) {
          ctx = { messageQueue: { ...pq.mq }, suspendCurrentQueueTimeMillis: suspend };
          pending = this.orderlyListener!(chunk, ctx);
        }
        status = await pending;
      } catch {
        status = 'SUSPEND_CURRENT_QUEUE_A_MOMENT';
      }
      pending = undefined;
      if (status === 'SUCCESS' || !this.running || pq.dropped) return;
      const m = chunk[0]!;
      if (m.reconsumeTimes >= maxTimes) {
        await Promise.resolve(pq.broker.consumerSendMessageBack({ group: this.group, commitLogOffset: m.commitLogOffset, delayLevel: -1, maxReconsumeTimes: maxTimes })).catch(() => undefined);
        return;
      }
      for (const x of chunk) x.reconsumeTimes++;
      await sleep(ctx.suspendCurrentQueueTimeMillis);
    }
  }

  /** Stops consuming: stores offsets, releases queues, leaves the group. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.rebalancing?.catch(() => undefined);
    for (const pq of [...this.processQueues.values()]) await this.release(pq);
    await this.offsetStore.persist().catch(() => undefined);
    for (const b of await this.allBrokers().catch(() => [])) await Promise.resolve(b.unregisterClient(this.clientId, this.group)).catch(() => undefined);
  }

  /**
   * Stops at once as a killed process would: nothing more is consumed or stored. With
   * `connectionLost` (default) the brokers see its connection close and drop it from the group
   * at once, as RocketMQ brokers do; without, it stays until its heartbeat expires (120 s).
   */
  async crash(options: { connectionLost?: boolean } = {}): Promise<void> {
    const brokers = options.connectionLost === false ? [] : await this.allBrokers().catch(() => []);
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const pq of this.processQueues.values()) pq.dropped = true;
    this.processQueues.clear();
    for (const b of brokers) await Promise.resolve(b.unregisterClient(this.clientId, this.group)).catch(() => undefined);
  }
}

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

/** A message from `%RETRY%<group>` is handed to the listener under its original topic. */
function restoreRetryTopic(m: MessageExt): void {
  const original = m.properties[PROPERTY_RETRY_TOPIC];
  if (original !== undefined && isRetryTopic(m.topic)) m.topic = original;
}
