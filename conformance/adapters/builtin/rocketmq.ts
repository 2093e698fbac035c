/**
 * The built-in broker-model adapter: the conformance harness over mqlab's in-process RocketMQ
 * engine (core/rocketmq). `mqlab conform --model rocketmq --adapter builtin` loads this file.
 *
 * - One NameServer and two brokers (broker-a, broker-b) in process, on the adapter's data dir.
 * - The harness id travels as the user property `MQLAB_ID`.
 * - Consumers are the engine's PushConsumer; its listener hands each message to `receive` and
 *   returns the status `settle` gives (orderly consumers: RECONSUME_LATER = suspend the queue).
 * - Time: the engine clock is the real clock plus a virtual offset; `advanceTime` moves it, lets
 *   live brokers and consumers heartbeat at the new time, moves due delayed messages and expires
 *   what stopped heartbeating (brokers from routes, clients from groups).
 * - `crash()` stops a consumer as a killed process: nothing more is stored; its connection drops,
 *   so the group rebalances; what it received and did not settle is consumed again elsewhere.
 * - `stopBroker(name)` / `startBroker(name)` (beyond the interface, for route-expiry checks):
 *   stops a broker without unregistering, so only heartbeat expiry removes its route.
 * - Worker threads: `workerSpec()` serves the cluster's transport on a MessagePort; the worker's
 *   adapter runs real producers (and consumers) against the same brokers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { isMqlabError, MqlabError } from '../../../core/errors';
import {
  connectTransport, Producer, PushConsumer, RocketCluster, selectByHash, type MessageExt, type MessageInit, type Transport,
} from '../../../core/rocketmq';
import { MQClient } from '../../../core/rocketmq/client';
import type { AdapterInfo, AdapterOptions, CreateAdapter, WorkerSpec } from '../common';
import type {
  BrokerAdapter, BrokerCapability, BrokerConsumer, BrokerConsumerOptions, BrokerProducer, BrokerTopicSpec, ConsumeStatus, OutgoingMessage,
  ReceivedMessage, ReceiveOptions, SendOptions, SendResult, TopicRoute,
} from '../broker-model';

const ID_PROPERTY = 'MQLAB_ID';
const BROKERS = ['broker-a', 'broker-b'];

const CAPABILITIES: AdapterInfo<'rocketmq', BrokerCapability>['capabilities'] = [
  'tags', 'keys', 'query-by-id', 'ordered-selector', 'clustering', 'broadcasting', 'retry', 'dead-letter', 'delay-level', 'consume-from',
  'route-expiry', 'consumer-crash', 'broker-restart', 'virtual-time', 'worker-threads',
];

function toReceived(m: MessageExt): ReceivedMessage {
  return {
    id: m.properties[ID_PROPERTY] ?? '',
    msgId: m.msgId,
    topic: m.topic,
    tags: m.tags ?? null,
    keys: m.keys ? m.keys.split(' ').filter((k) => k.length > 0) : [],
    body: m.body,
    properties: m.properties,
    broker: m.brokerName,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    reconsumeTimes: m.reconsumeTimes,
    bornTimestamp: m.bornTimestamp,
    storeTimestamp: m.storeTimestamp,
  };
}

class BuiltinProducer implements BrokerProducer {
  constructor(private readonly producer: Producer) {}

  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendResult> {
    const msg: MessageInit = {
      topic: message.topic,
      body: message.body ?? message.id,
      properties: { ...message.properties, [ID_PROPERTY]: message.id },
      ...(message.tags !== undefined ? { tags: message.tags } : {}),
      ...(message.keys !== undefined ? { keys: message.keys } : {}),
      ...(message.delayLevel !== undefined ? { delayTimeLevel: message.delayLevel } : {}),
    };
    const r = options.queue
      ? await this.producer.send(msg, { topic: message.topic, brokerName: options.queue.broker, queueId: options.queue.queueId })
      : options.shardingKey !== undefined
        ? await this.producer.send(msg, selectByHash, options.shardingKey)
        : await this.producer.send(msg);
    return { id: message.id, status: r.sendStatus, msgId: r.msgId, broker: r.messageQueue.brokerName, queueId: r.queueId, queueOffset: r.queueOffset };
  }

  close(): Promise<void> {
    return this.producer.shutdown();
  }
}

interface Pending {
  message: ReceivedMessage;
  resolve: (status: ConsumeStatus) => void;
}

class BuiltinConsumer implements BrokerConsumer {
  private readonly consumer: PushConsumer;
  private readonly ready: ReceivedMessage[] = [];
  private readonly pending = new Map<string, Pending>();
  private wake: (() => void) | undefined;

  constructor(transport: Transport, options: BrokerConsumerOptions, offsetDir: string, clock: () => number, private readonly onClose: (c: BuiltinConsumer) => void) {
    const from = options.consumeFrom ?? { from: 'last' };
    this.consumer = new PushConsumer({
      group: options.group,
      transport,
      messageModel: options.model,
      instanceName: options.instanceName,
      offsetStoreDir: offsetDir,
      consumeFromWhere: from.from === 'first' ? 'CONSUME_FROM_FIRST_OFFSET' : from.from === 'timestamp' ? 'CONSUME_FROM_TIMESTAMP' : 'CONSUME_FROM_LAST_OFFSET',
      ...(from.from === 'timestamp' ? { consumeTimestamp: from.timestamp } : {}),
      ...(options.maxReconsumeTimes !== undefined ? { maxReconsumeTimes: options.maxReconsumeTimes } : {}),
      suspendCurrentQueueTimeMillis: 10,
      pollTimeoutMs: 500,
      rebalanceIntervalMs: 500,
      clock,
    });
    const hand = (msgs: MessageExt[]): Promise<ConsumeStatus> => {
      const m = toReceived(msgs[0]!);
      return new Promise<ConsumeStatus>((resolve) => {
        this.pending.set(m.msgId, { message: m, resolve });
        this.ready.push(m);
        this.wake?.();
      });
    };
    if (options.orderly) {
      this.consumer.registerMessageListenerOrderly(async (msgs) => ((await hand(msgs)) === 'CONSUME_SUCCESS' ? 'SUCCESS' : 'SUSPEND_CURRENT_QUEUE_A_MOMENT'));
    } else {
      this.consumer.registerMessageListener((msgs) => hand(msgs));
    }
  }

  get engineConsumer(): PushConsumer {
    return this.consumer;
  }

  async subscribe(topic: string, expression: string): Promise<void> {
    this.consumer.subscribe(topic, expression);
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const end = Date.now() + options.timeoutMs;
    while (this.ready.length === 0) {
      const left = end - Date.now();
      if (left <= 0) return [];
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          resolve();
        };
      });
    }
    return this.ready.splice(0, Math.max(1, options.maxMessages));
  }

  async settle(message: ReceivedMessage, status: ConsumeStatus): Promise<void> {
    const p = this.pending.get(message.msgId);
    if (!p) throw new MqlabError('ERR_INVALID_ARG', `message ${message.msgId} is not awaiting a verdict from this consumer`, { msgId: message.msgId });
    this.pending.delete(message.msgId);
    p.resolve(status);
  }

  async shutdown(): Promise<void> {
    // Listeners still waiting for a verdict return now; the engine does not store their offsets
    // once shutdown began, so whatever was not settled is consumed again by the next owner.
    const closing = this.consumer.shutdown();
    for (const p of this.pending.values()) p.resolve('CONSUME_SUCCESS');
    this.pending.clear();
    this.ready.length = 0;
    await closing;
    this.onClose(this);
  }

  async crash(): Promise<void> {
    await this.consumer.crash();
    this.pending.clear();
    this.ready.length = 0;
    this.onClose(this);
  }
}

/** What both the main-thread and the worker adapter share: producers, consumers, routes, queries. */
abstract class RocketAdapterBase implements BrokerAdapter {
  abstract readonly info: BrokerAdapter['info'];
  protected readonly consumers = new Set<BuiltinConsumer>();
  protected readonly producers = new Set<Producer>();
  private readonly client: MQClient;

  constructor(protected readonly transport: Transport, protected readonly offsetDir: string, protected readonly clock: () => number) {
    this.client = new MQClient(transport);
  }

  abstract createTopic(topic: string, spec: BrokerTopicSpec): Promise<void>;

  async route(topic: string): Promise<TopicRoute> {
    const r = await this.transport.nameServer.getRouteInfoByTopic(topic);
    const brokers = r.brokerDatas.map((b) => ({ name: b.brokerName, address: b.brokerAddrs[0] ?? '' }));
    const queues = r.queueDatas.flatMap((q) => Array.from({ length: q.readQueueNums }, (_, queueId) => ({ broker: q.brokerName, queueId })));
    return { topic, brokers, queues };
  }

  async producer(options: { group: string }): Promise<BrokerProducer> {
    const p = new Producer({ group: options.group, transport: this.transport });
    await p.start();
    this.producers.add(p);
    return new BuiltinProducer(p);
  }

  async consumer(options: BrokerConsumerOptions): Promise<BrokerConsumer> {
    const c = new BuiltinConsumer(this.transport, options, this.offsetDir, this.clock, (x) => this.consumers.delete(x));
    this.consumers.add(c);
    return c;
  }

  async queryById(topic: string, msgId: string): Promise<ReceivedMessage | null> {
    try {
      const m = await this.client.viewMessage(msgId);
      const origin = m.properties['RETRY_TOPIC'] ?? m.topic;
      return m.topic === topic || origin === topic ? toReceived(m) : null;
    } catch (e) {
      if (isMqlabError(e, 'QUERY_NOT_FOUND')) return null;
      throw e;
    }
  }

  async queryByKey(topic: string, key: string): Promise<ReceivedMessage[]> {
    try {
      return (await this.client.queryMessage(topic, key, 1000)).map(toReceived);
    } catch (e) {
      if (isMqlabError(e, 'NO_MESSAGE')) return [];
      throw e;
    }
  }

  async close(): Promise<void> {
    for (const c of [...this.consumers]) await c.shutdown().catch(() => undefined);
    for (const p of this.producers) await p.shutdown();
  }
}

export class BuiltinRocketAdapter extends RocketAdapterBase {
  readonly info: BrokerAdapter['info'] = {
    model: 'rocketmq',
    name: 'mqlab built-in rocketmq engine (nameserver + 2 brokers)',
    guarantee: 'at-least-once',
    capabilities: CAPABILITIES,
  };
  readonly cluster: RocketCluster;
  private offsetMs = 0;

  constructor(private readonly dataDir: string, private readonly removeOnClose: boolean) {
    const clockRef = { adapter: undefined as BuiltinRocketAdapter | undefined };
    const clock = () => Date.now() + (clockRef.adapter?.offsetMs ?? 0);
    const cluster = new RocketCluster({ dataDir: path.join(dataDir, 'brokers'), brokerNames: BROKERS, clock });
    super(cluster.transport, path.join(dataDir, 'offsets'), clock);
    clockRef.adapter = this;
    this.cluster = cluster;
  }

  async createTopic(topic: string, spec: BrokerTopicSpec): Promise<void> {
    this.cluster.createTopic(topic, spec.queues, spec.brokers ? [...spec.brokers] : BROKERS);
  }

  async restartBroker(): Promise<void> {
    this.cluster.restartBroker();
  }

  async advanceTime(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new MqlabError('ERR_INVALID_ARG', 'ms must be a non-negative number');
    this.offsetMs += ms;
    for (const c of this.consumers) await c.engineConsumer.sendHeartbeat().catch(() => undefined);
    this.cluster.tick();
    for (const name of this.cluster.brokerNames) {
      const b = this.cluster.broker(name);
      if (b.isRunning) b.scanNotActiveClients();
    }
  }

  /** Stops a broker without unregistering (a crash, as the NameServer sees it). */
  async stopBroker(name: string): Promise<void> {
    this.cluster.stopBroker(name, { unregister: false });
  }

  async startBroker(name: string): Promise<void> {
    this.cluster.startBroker(name);
  }

  async workerSpec(): Promise<WorkerSpec> {
    const port = this.cluster.share();
    return { modulePath: __filename, options: {}, data: { port, offsetDir: this.offsetDir, brokerAddrs: this.cluster.nameServer.brokerAddresses() }, transferList: [port] };
  }

  async close(): Promise<void> {
    await super.close();
    this.cluster.close();
    if (this.removeOnClose) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The adapter inside a worker thread: the same brokers, reached through a MessagePort. */
class WorkerRocketAdapter extends RocketAdapterBase {
  readonly info: BrokerAdapter['info'] = {
    model: 'rocketmq',
    name: 'mqlab built-in rocketmq engine (worker thread)',
    guarantee: 'at-least-once',
    capabilities: CAPABILITIES.filter((c) => c !== 'broker-restart' && c !== 'virtual-time' && c !== 'worker-threads' && c !== 'route-expiry'),
  };

  constructor(private readonly remote: Transport & { close(): void }, offsetDir: string, private readonly brokerAddrs: Record<string, string>) {
    super(remote, offsetDir, Date.now);
  }

  async createTopic(topic: string, spec: BrokerTopicSpec): Promise<void> {
    const brokers = spec.brokers ?? BROKERS;
    for (const name of brokers) {
      const addr = this.brokerAddrs[name];
      if (addr === undefined) throw new MqlabError('SERVICE_NOT_AVAILABLE', `no broker ${name}`);
      await this.remote.broker(addr).createTopic(topic, spec.queues);
    }
  }

  async close(): Promise<void> {
    await super.close();
    this.remote.close();
  }
}

export const createAdapter: CreateAdapter<BrokerAdapter> = (options: AdapterOptions) => {
  const data = options.worker?.data as { port?: MessagePort; offsetDir?: string; brokerAddrs?: Record<string, string> } | undefined;
  if (data?.port !== undefined) {
    return new WorkerRocketAdapter(connectTransport(data.port), data.offsetDir ?? path.join(os.tmpdir(), 'mqlab-rocketmq-offsets'), data.brokerAddrs ?? {});
  }
  if (options.dataDir !== undefined) return new BuiltinRocketAdapter(options.dataDir, false);
  return new BuiltinRocketAdapter(fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-rocketmq-')), true);
};

