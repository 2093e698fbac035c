/**
 * Broker-model adapter for a real Apache RocketMQ 5 (nameserver + broker), over mqlab's own
 * remoting-protocol client (rocketmq-remoting.ts), so no gRPC proxy is needed and every part of
 * the model can be driven: queue-level pull, broker-stored CLUSTERING offsets, per-instance
 * BROADCASTING offsets, tags, retry through CONSUMER_SEND_MSG_BACK, %DLQ%, queries.
 *
 *   createAdapter({url: 'rocketmq://127.0.0.1:9876'})     // the nameserver
 *
 * Consumers behave like the Java push consumer, with the harness as the listener: each
 * assigned queue is long-polled into a buffer; `receive` hands messages out; `settle` reports
 * the listener's status; the consume offset of a queue is its smallest unsettled offset (or the
 * next pull offset when nothing is in flight), persisted to the broker every second and at
 * shutdown. CLUSTERING queues are allocated "averagely" over the sorted member ids, re-done
 * every second and whenever the broker announces a membership change.
 *
 * Retries: RECONSUME_LATER sends the message back with delay level `params.retryDelayLevel`
 * (default 1 = 1 s; the Java consumer's default lets the broker pick 3 + reconsumeTimes, i.e.
 * 10 s, 30 s, 1 min...). BROADCASTING has no retry in RocketMQ: the message is dropped.
 */
import { randomBytes } from 'node:crypto';
import { MqlabError } from '../../../core/errors';
import type { AdapterOptions, CommonCapability } from '../common';
import type {
  BrokerAdapter, BrokerCapability, BrokerConsumer, BrokerConsumerOptions, BrokerProducer, BrokerTopicSpec, ConsumeStatus,
  OutgoingMessage, QueueRef, ReceiveOptions, ReceivedMessage, SendOptions, SendResult, SendStatus, TopicRoute,
} from '../broker-model';
import {
  RemotingConnection, RequestCode, ResponseCode, decodeMessages, encodeProperties, javaStringHash, parseOffsetMsgId,
  parseRocketJson, responseName, type RemotingCommand, type StoredMessage,
} from './rocketmq-remoting';
import { brokerUnreachable, isLocalPeer, parseBrokerUrl, restartPeer, sleep, toBuffer, type BrokerAddress } from './support';

const ID_PROPERTY = 'mqlab_id';
/**
 * RocketMQ refuses a message without a body (the Java client's Validators.checkMessage says "the
 * message body length is zero"; the broker fails on a null body). A missing or empty body is sent
 * as one zero byte with this property saying which, and restored on receipt.
 */
const EMPTY_BODY_PROPERTY = 'mqlab_body';
const AUTO_CREATE_TOPIC = 'TBW102';
/** Properties RocketMQ itself sets; everything else is the user's. */
const SYSTEM_PROPERTIES = new Set([
  'TAGS', 'KEYS', 'UNIQ_KEY', 'WAIT', 'DELAY', ID_PROPERTY, EMPTY_BODY_PROPERTY, 'RETRY_TOPIC', 'REAL_TOPIC', 'REAL_QID', 'ORIGIN_MESSAGE_ID',
  'MIN_OFFSET', 'MAX_OFFSET', 'CONSUME_START_TIME', 'TRAN_MSG', 'PGROUP', 'CLUSTER', 'MSG_REGION', 'TRACE_ON',
  'RECONSUME_TIME', 'MAX_RECONSUME_TIMES', 'DELAY_TIME_LEVEL', '__STARTDELIVERTIME', 'TIMER_OUT_MS', 'TIMER_DELAY_LEVEL',
  'TIMER_DELIVER_MS', 'TIMER_ENQUEUE_MS', 'TIMER_DEQUEUE_MS', 'TIMER_ROLL_TIMES', 'TRACE_CONTEXT', 'INNER_NUM', 'INNER_BASE',
  'BORNHOST', 'DLQ_ORIGIN_TOPIC', 'DLQ_ORIGIN_MESSAGE_ID', 'CORRECTION_FLAG', 'POP_CK', 'POP_CK_OFFSET', 'FIRST_POP_TIME',
]);

interface RouteData {
  brokerDatas?: { brokerName: string; brokerAddrs: Record<string, string>; cluster?: string }[];
  queueDatas?: { brokerName: string; readQueueNums: number; writeQueueNums: number; perm: number }[];
}

interface BrokerQueue {
  broker: string;
  address: string;
  queueId: number;
}

interface ResolvedRoute {
  topic: string;
  brokers: { name: string; address: string }[];
  readQueues: BrokerQueue[];
  writeQueues: BrokerQueue[];
}

function rocketError(cmd: RemotingCommand, what: string): MqlabError {
  return new MqlabError(responseName(cmd.code), `rocketmq ${what}: ${responseName(cmd.code)} ${cmd.remark ?? ''}`.trim(), { responseCode: cmd.code });
}

function newUniqKey(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** The connections one client (admin, producer or consumer) holds; a crash cuts all of them. */
class ConnectionPool {
  private readonly conns = new Map<string, RemotingConnection>();
  private dead = false;

  constructor(
    readonly nameserver: BrokerAddress,
    readonly timeoutMs: number,
    private readonly onRequest?: (cmd: RemotingCommand) => void,
  ) {}

  async get(address: string, role: string): Promise<RemotingConnection> {
    if (this.dead) throw new MqlabError('ERR_CLOSED', 'rocketmq client is closed');
    const existing = this.conns.get(address);
    if (existing?.alive) return existing;
    const conn = new RemotingConnection(address, role, this.onRequest);
    this.conns.set(address, conn);
    try {
      await conn.connect(Math.min(this.timeoutMs, 5000));
    } catch (e) {
      this.conns.delete(address);
      throw e;
    }
    return conn;
  }

  async nameserverCall(code: number, ext: Record<string, string | number | boolean | undefined>): Promise<RemotingCommand> {
    let conn: RemotingConnection;
    try {
      conn = await this.get(`${this.nameserver.host}:${this.nameserver.port}`, 'RocketMQ nameserver');
    } catch (e) {
      throw brokerUnreachable('RocketMQ', this.nameserver, e);
    }
    return conn.invoke(code, ext, null, this.timeoutMs);
  }

  async brokerCall(address: string, broker: string, code: number, ext: Record<string, string | number | boolean | undefined>, body: Buffer | null = null, timeoutMs = this.timeoutMs): Promise<RemotingCommand> {
    const conn = await this.get(address, `RocketMQ broker ${broker}`);
    return conn.invoke(code, ext, body, timeoutMs);
  }

  addresses(): string[] {
    return [...this.conns.keys()];
  }

  close(crash = false): void {
    this.dead = true;
    for (const c of this.conns.values()) c.destroy(crash ? new Error('client crashed by the harness') : undefined);
    this.conns.clear();
  }
}

async function fetchRoute(pool: ConnectionPool, topic: string): Promise<ResolvedRoute | null> {
  const res = await pool.nameserverCall(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic, acceptStandardJsonOnly: true });
  if (res.code === ResponseCode.TOPIC_NOT_EXIST) return null;
  if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, `route of ${topic}`);
  const data = parseRocketJson<RouteData>(res.body);
  const brokers: { name: string; address: string }[] = [];
  for (const b of data.brokerDatas ?? []) {
    const master = b.brokerAddrs['0'];
    if (master) brokers.push({ name: b.brokerName, address: master });
  }
  brokers.sort((a, b) => a.name.localeCompare(b.name));
  const readQueues: BrokerQueue[] = [];
  const writeQueues: BrokerQueue[] = [];
  for (const q of [...(data.queueDatas ?? [])].sort((a, b) => a.brokerName.localeCompare(b.brokerName))) {
    const b = brokers.find((x) => x.name === q.brokerName);
    if (!b) continue;
    if (q.perm & 4) for (let i = 0; i < q.readQueueNums; i++) readQueues.push({ broker: b.name, address: b.address, queueId: i });
    if (q.perm & 2) for (let i = 0; i < q.writeQueueNums; i++) writeQueues.push({ broker: b.name, address: b.address, queueId: i });
  }
  return { topic, brokers, readQueues, writeQueues };
}

async function clusterBrokers(pool: ConnectionPool): Promise<{ name: string; address: string }[]> {
  const res = await pool.nameserverCall(RequestCode.GET_BROKER_CLUSTER_INFO, {});
  if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, 'cluster info');
  const info = parseRocketJson<{ brokerAddrTable?: Record<string, { brokerName: string; brokerAddrs: Record<string, string> }> }>(res.body);
  return Object.values(info.brokerAddrTable ?? {})
    .filter((b) => b.brokerAddrs['0'])
    .map((b) => ({ name: b.brokerName, address: b.brokerAddrs['0']! }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function toReceived(m: StoredMessage, broker: string): ReceivedMessage {
  const p = m.properties;
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (!SYSTEM_PROPERTIES.has(k)) properties[k] = v;
  return {
    id: p[ID_PROPERTY] ?? '',
    msgId: m.offsetMsgId,
    topic: p.RETRY_TOPIC ?? m.topic,
    tags: p.TAGS ?? null,
    keys: p.KEYS ? p.KEYS.split(' ').filter(Boolean) : [],
    body: p[EMPTY_BODY_PROPERTY] === 'none' ? null : p[EMPTY_BODY_PROPERTY] === 'empty' ? Buffer.alloc(0) : m.body,
    properties,
    broker,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    reconsumeTimes: m.reconsumeTimes,
    bornTimestamp: m.bornTimestamp,
    storeTimestamp: m.storeTimestamp,
  };
}

/** `*`, `TagA`, `TagA || TagB`. */
function parseTagExpression(expression: string): Set<string> | null {
  const e = expression.trim();
  if (e === '' || e === '*') return null;
  const tags = e.split('||').map((s) => s.trim()).filter(Boolean);
  if (tags.length === 0) throw new MqlabError('SUBSCRIPTION_PARSE_FAILED', `rocketmq tag expression ${JSON.stringify(expression)} is not valid`);
  return new Set(tags);
}

class RocketProducer implements BrokerProducer {
  private readonly pool: ConnectionPool;
  private roundRobin = Math.floor(Math.random() * 1024);
  private readonly routes = new Map<string, { route: ResolvedRoute; autoCreate: boolean; at: number }>();

  constructor(nameserver: BrokerAddress, timeoutMs: number, private readonly group: string) {
    this.pool = new ConnectionPool(nameserver, timeoutMs);
  }

  private async routeFor(topic: string): Promise<{ route: ResolvedRoute; autoCreate: boolean }> {
    const cached = this.routes.get(topic);
    if (cached && Date.now() - cached.at < 3000) return cached;
    let route = await fetchRoute(this.pool, topic);
    let autoCreate = false;
    if (!route || route.writeQueues.length === 0) {
      // As the Java producer does: send through the auto-create topic's route; the broker creates the topic.
      route = await fetchRoute(this.pool, AUTO_CREATE_TOPIC);
      autoCreate = true;
      if (!route) throw new MqlabError('TOPIC_NOT_EXIST', `rocketmq topic ${topic} does not exist and the broker does not auto-create topics`);
    }
    const entry = { route, autoCreate, at: Date.now() };
    this.routes.set(topic, entry);
    return entry;
  }

  async send(message: OutgoingMessage, options?: SendOptions): Promise<SendResult> {
    const { route, autoCreate } = await this.routeFor(message.topic);
    const queues = route.writeQueues;
    let target: BrokerQueue | undefined;
    if (options?.queue) {
      target = queues.find((q) => q.broker === options.queue!.broker && q.queueId === options.queue!.queueId);
      if (!target) throw new MqlabError('ERR_INVALID_ARG', `rocketmq topic ${message.topic} has no writable queue ${options.queue.broker}/${options.queue.queueId}`);
    } else if (options?.shardingKey !== undefined) {
      // RocketMQ's SelectMessageQueueByHash: |String.hashCode| mod the number of queues.
      target = queues[Math.abs(javaStringHash(options.shardingKey)) % queues.length];
    } else {
      target = queues[this.roundRobin++ % queues.length];
    }
    if (!target) throw new MqlabError('TOPIC_NOT_EXIST', `rocketmq topic ${message.topic} has no writable queue`);
    const props: Record<string, string> = { ...(message.properties ?? {}) };
    props[ID_PROPERTY] = message.id;
    props.UNIQ_KEY = newUniqKey();
    props.WAIT = 'true';
    if (message.tags) props.TAGS = message.tags;
    if (message.keys && message.keys.length > 0) props.KEYS = message.keys.join(' ');
    if (message.delayLevel !== undefined) {
      if (!Number.isInteger(message.delayLevel) || message.delayLevel < 1 || message.delayLevel > 18) throw new MqlabError('ERR_INVALID_ARG', 'delayLevel must be an integer 1..18');
      props.DELAY = String(message.delayLevel);
    }
    let body = toBuffer(message.body);
    if (body.length === 0) {
      props[EMPTY_BODY_PROPERTY] = message.body === undefined || message.body === null ? 'none' : 'empty';
      body = Buffer.alloc(1);
    }
    const res = await this.pool.brokerCall(target.address, target.broker, RequestCode.SEND_MESSAGE, {
      producerGroup: this.group, topic: message.topic, defaultTopic: AUTO_CREATE_TOPIC, defaultTopicQueueNums: 4,
      queueId: target.queueId, sysFlag: 0, bornTimestamp: Date.now(), flag: 0, properties: encodeProperties(props),
      reconsumeTimes: 0, unitMode: false, batch: false, bname: target.broker,
    }, body);
    const statusByCode: Record<number, SendStatus> = {
      [ResponseCode.SUCCESS]: 'SEND_OK', [ResponseCode.FLUSH_DISK_TIMEOUT]: 'FLUSH_DISK_TIMEOUT',
      [ResponseCode.FLUSH_SLAVE_TIMEOUT]: 'FLUSH_SLAVE_TIMEOUT', [ResponseCode.SLAVE_NOT_AVAILABLE]: 'SLAVE_NOT_AVAILABLE',
    };
    const status = statusByCode[res.code];
    if (!status) throw rocketError(res, `send to ${message.topic}`);
    if (autoCreate) this.routes.delete(message.topic);
    return {
      id: message.id, status, msgId: res.extFields.msgId ?? '', broker: target.broker,
      queueId: Number(res.extFields.queueId ?? target.queueId), queueOffset: Number(res.extFields.queueOffset ?? -1),
    };
  }

  async close(): Promise<void> {
    this.pool.close();
  }
}

interface QueueState {
  key: string;
  topic: string;
  broker: string;
  address: string;
  queueId: number;
  expression: string;
  tags: Set<string> | null;
  nextPull: number;
  /** Pulled, not yet settled: queue offset -> message (handed out or still buffered). */
  inFlight: Map<number, ReceivedMessage>;
  dropped: boolean;
  /** Offset last written to the offset store (-1: none yet; the Java client writes every assigned queue's offset too). */
  persisted: number;
  /** Resolves after the first pull of this queue was answered. */
  firstPull: Promise<void>;
  firstPullDone: () => void;
}

interface HandedOut {
  queue: QueueState;
  message: ReceivedMessage;
  stored: { commitLogOffset: number; address: string; uniqKey: string; originTopic: string };
}

/** BROADCASTING offsets live with the consumer instance; kept here so a restarted instance resumes. */
const localOffsetStores = new Map<string, Map<string, number>>();

class RocketConsumer implements BrokerConsumer {
  private readonly pool: ConnectionPool;
  private readonly subs = new Map<string, string>();
  private readonly queues = new Map<string, QueueState>();
  private buffer: { queue: QueueState; message: ReceivedMessage; stored: HandedOut['stored'] }[] = [];
  private readonly handed = new Map<string, HandedOut>();
  private readonly clientId: string;
  private readonly timers: NodeJS.Timeout[] = [];
  private waiters: (() => void)[] = [];
  private started = false;
  private stopped = false;
  private rebalancing: Promise<void> | null = null;
  private rebalanceAgain = false;
  private readonly retryTopic: string;
  private readonly localOffsets: Map<string, number>;
  private lastError: MqlabError | null = null;
  /** Set while pulls fail (broker down): receive reports it instead of returning [] forever. */
  private pullFailure: { error: MqlabError; since: number } | null = null;

  constructor(nameserver: BrokerAddress, private readonly timeoutMs: number, private readonly opts: BrokerConsumerOptions, private readonly retryDelayLevel: number) {
    this.pool = new ConnectionPool(nameserver, timeoutMs, (cmd) => {
      if (cmd.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED) this.triggerRebalance();
    });
    this.clientId = `127.0.0.1@${opts.instanceName}`;
    this.retryTopic = `%RETRY%${opts.group}`;
    const storeKey = `${opts.group}\u0000${opts.instanceName}`;
    let store = localOffsetStores.get(storeKey);
    if (!store) { store = new Map(); localOffsetStores.set(storeKey, store); }
    this.localOffsets = store;
  }

  private get clustering(): boolean {
    return this.opts.model === 'CLUSTERING';
  }

  async subscribe(topic: string, expression: string): Promise<void> {
    if (this.started) throw new MqlabError('ERR_INVALID_ARG', 'rocketmq consumer: subscribe before start');
    parseTagExpression(expression);
    this.subs.set(topic, expression);
  }

  async start(): Promise<void> {
    if (this.started) return;
    if (this.subs.size === 0) throw new MqlabError('ERR_INVALID_ARG', 'rocketmq consumer: subscribe to a topic before start');
    this.started = true;
    // The Java push consumer subscribes its group's retry topic by itself in CLUSTERING.
    if (this.clustering) this.subs.set(this.retryTopic, '*');
    await this.heartbeat();
    await this.rebalance();
    // start = fetching: the first pull of every queue assigned now has been answered (right after
    // a broker restart that takes a moment), bounded by the request timeout.
    const firsts = [...this.queues.values()].map((q) => q.firstPull);
    await Promise.race([Promise.all(firsts), sleep(this.timeoutMs)]);
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => undefined), 2000));
    this.timers.push(setInterval(() => this.triggerRebalance(), 1000));
    this.timers.push(setInterval(() => void this.persistOffsets().catch(() => undefined), 1000));
  }

  private async brokersOfSubscriptions(): Promise<{ name: string; address: string }[]> {
    const seen = new Map<string, string>();
    for (const topic of this.subs.keys()) {
      const r = await fetchRoute(this.pool, topic).catch(() => null);
      for (const b of r?.brokers ?? []) seen.set(b.name, b.address);
    }
    if (seen.size === 0) for (const b of await clusterBrokers(this.pool)) seen.set(b.name, b.address);
    return [...seen].map(([name, address]) => ({ name, address }));
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    const subVersion = Date.now();
    const body = Buffer.from(JSON.stringify({
      clientID: this.clientId,
      consumerDataSet: [{
        groupName: this.opts.group,
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: this.opts.model,
        consumeFromWhere: this.opts.consumeFrom?.from === 'first' ? 'CONSUME_FROM_FIRST_OFFSET' : this.opts.consumeFrom?.from === 'timestamp' ? 'CONSUME_FROM_TIMESTAMP' : 'CONSUME_FROM_LAST_OFFSET',
        subscriptionDataSet: [...this.subs].map(([topic, expr]) => {
          const tags = parseTagExpression(expr);
          return { classFilterMode: false, topic, subString: tags ? [...tags].join('||') : '*', tagsSet: tags ? [...tags] : [], codeSet: tags ? [...tags].map(javaStringHash) : [], subVersion, expressionType: 'TAG' };
        }),
        unitMode: false,
      }],
      producerDataSet: [],
    }), 'utf8');
    for (const b of await this.brokersOfSubscriptions()) {
      const res = await this.pool.brokerCall(b.address, b.name, RequestCode.HEART_BEAT, {}, body);
      if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, 'heartbeat');
    }
  }

  private triggerRebalance(): void {
    if (this.stopped || !this.started) return;
    if (this.rebalancing) { this.rebalanceAgain = true; return; }
    void this.rebalance().catch((e: unknown) => { this.lastError = e instanceof MqlabError ? e : new MqlabError('ERR_BROKER', String(e)); });
  }

  private rebalance(): Promise<void> {
    if (this.rebalancing) { this.rebalanceAgain = true; return this.rebalancing; }
    this.rebalancing = (async () => {
      do {
        this.rebalanceAgain = false;
        await this.rebalanceOnce();
      } while (this.rebalanceAgain && !this.stopped);
    })().finally(() => { this.rebalancing = null; });
    return this.rebalancing;
  }

  private async rebalanceOnce(): Promise<void> {
    const wanted = new Map<string, BrokerQueue & { topic: string; expression: string }>();
    for (const [topic, expression] of this.subs) {
      const route = await fetchRoute(this.pool, topic);
      if (!route) continue;
      let mine = route.readQueues;
      if (this.clustering && mine.length > 0) {
        const ids = await this.consumerIds(route.brokers[0]!);
        const idx = ids.indexOf(this.clientId);
        mine = idx < 0 ? [] : allocateAveragely(mine, ids.length, idx);
      }
      for (const q of mine) wanted.set(`${topic}\u0000${q.broker}\u0000${q.queueId}`, { ...q, topic, expression });
    }
    if (this.stopped) return;
    for (const [key, q] of this.queues) {
      if (!wanted.has(key)) await this.dropQueue(q);
    }
    for (const [key, q] of wanted) {
      if (this.queues.has(key)) continue;
      const start = await this.startOffset(q.topic, q.broker, q.address, q.queueId);
      if (this.stopped || this.queues.has(key)) continue;
      let firstPullDone: () => void = () => undefined;
      const firstPull = new Promise<void>((r) => { firstPullDone = r; });
      const state: QueueState = {
        key, topic: q.topic, broker: q.broker, address: q.address, queueId: q.queueId, expression: q.expression,
        tags: parseTagExpression(q.expression), nextPull: start, inFlight: new Map(), dropped: false, persisted: -1,
        firstPull, firstPullDone,
      };
      this.queues.set(key, state);
      void this.pullLoop(state);
    }
  }

  private async consumerIds(broker: { name: string; address: string }): Promise<string[]> {
    const res = await this.pool.brokerCall(broker.address, broker.name, RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: this.opts.group });
    if (res.code !== ResponseCode.SUCCESS) return [];
    const body = parseRocketJson<{ consumerIdList?: string[] }>(res.body);
    return [...(body.consumerIdList ?? [])].sort();
  }

  private async startOffset(topic: string, broker: string, address: string, queueId: number): Promise<number> {
    const stored = await this.readOffset(topic, broker, address, queueId);
    if (stored !== null) return stored;
    const from = this.opts.consumeFrom ?? { from: 'last' };
    if (topic.startsWith('%RETRY%')) return 0;
    if (from.from === 'first') return 0;
    if (from.from === 'timestamp') {
      const res = await this.pool.brokerCall(address, broker, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic, queueId, timestamp: from.timestamp, bname: broker });
      if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, `offset by time in ${topic}/${queueId}`);
      return Number(res.extFields.offset ?? 0);
    }
    const res = await this.pool.brokerCall(address, broker, RequestCode.GET_MAX_OFFSET, { topic, queueId, bname: broker });
    if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, `max offset of ${topic}/${queueId}`);
    return Number(res.extFields.offset ?? 0);
  }

  private async readOffset(topic: string, broker: string, address: string, queueId: number): Promise<number | null> {
    if (!this.clustering) {
      const v = this.localOffsets.get(`${topic}\u0000${broker}\u0000${queueId}`);
      return v === undefined ? null : v;
    }
    // setZeroIfNotFound=false: a group without an offset gets "not found", not 0, so consumeFrom decides.
    const res = await this.pool.brokerCall(address, broker, RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: this.opts.group, topic, queueId, setZeroIfNotFound: false, bname: broker });
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return null;
    if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, `consumer offset of ${topic}/${queueId}`);
    const n = Number(res.extFields.offset);
    return Number.isFinite(n) && n >= 0 ? n : null;
  }

  private currentOffset(q: QueueState): number {
    let min = q.nextPull;
    for (const off of q.inFlight.keys()) if (off < min) min = off;
    return min;
  }

  private async writeOffset(q: QueueState): Promise<void> {
    const offset = this.currentOffset(q);
    if (offset === q.persisted) return;
    if (!this.clustering) {
      this.localOffsets.set(q.key, offset);
      q.persisted = offset;
      return;
    }
    const res = await this.pool.brokerCall(q.address, q.broker, RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: this.opts.group, topic: q.topic, queueId: q.queueId, commitOffset: offset, bname: q.broker });
    if (res.code === ResponseCode.SUCCESS) q.persisted = offset;
  }

  private async persistOffsets(): Promise<void> {
    for (const q of this.queues.values()) await this.writeOffset(q);
  }

  private async dropQueue(q: QueueState): Promise<void> {
    q.dropped = true;
    this.queues.delete(q.key);
    this.buffer = this.buffer.filter((b) => b.queue !== q);
    await this.writeOffset(q).catch(() => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async pullLoop(q: QueueState): Promise<void> {
    const subscription = q.tags ? [...q.tags].join(' || ') : '*';
    while (!q.dropped && !this.stopped) {
      if (q.inFlight.size >= 1000) { await sleep(20); continue; }
      let res: RemotingCommand;
      try {
        res = await this.pool.brokerCall(q.address, q.broker, RequestCode.PULL_MESSAGE, {
          consumerGroup: this.opts.group, topic: q.topic, queueId: q.queueId, queueOffset: q.nextPull, maxMsgNums: 32,
          sysFlag: 2 | 4, commitOffset: 0, suspendTimeoutMillis: 1000, subscription, subVersion: Date.now(), expressionType: 'TAG', bname: q.broker,
        }, null, 1000 + this.timeoutMs);
      } catch (e) {
        if (!this.pullFailure) this.pullFailure = { error: e instanceof MqlabError ? e : new MqlabError('ERR_BROKER_UNREACHABLE', String(e)), since: Date.now() };
        if (!this.stopped && !q.dropped) await sleep(200);
        continue;
      }
      this.pullFailure = null;
      q.firstPullDone();
      if (q.dropped || this.stopped) return;
      const next = res.extFields.nextBeginOffset !== undefined ? Number(res.extFields.nextBeginOffset) : q.nextPull;
      if (res.code === ResponseCode.SUCCESS) {
        for (const m of decodeMessages(res.body)) {
          if (m.queueOffset < q.nextPull) continue;
          // The broker filters by tag hash; compare the tag itself, as the Java client does.
          if (q.tags && !q.tags.has(m.properties.TAGS ?? '')) continue;
          const message = toReceived(m, q.broker);
          q.inFlight.set(m.queueOffset, message);
          this.buffer.push({ queue: q, message, stored: { commitLogOffset: m.commitLogOffset, address: q.address, uniqKey: m.properties.UNIQ_KEY ?? m.offsetMsgId, originTopic: message.topic } });
        }
        q.nextPull = Math.max(q.nextPull, next);
        this.wake();
      } else if (res.code === ResponseCode.PULL_NOT_FOUND || res.code === ResponseCode.PULL_RETRY_IMMEDIATELY || res.code === ResponseCode.PULL_OFFSET_MOVED) {
        q.nextPull = Math.max(0, next);
      } else {
        await sleep(200);
      }
    }
  }

  /**
   * Before the last offset persist: one non-waiting pull, so messages at the queue's tail that
   * the tag filter skips (and that arrived after the last long poll) count as consumed, as the
   * next long poll would have made them. Matching messages are left for the next owner.
   */
  private async skipFilteredTail(q: QueueState): Promise<void> {
    if (!q.tags || q.inFlight.size > 0) return;
    const res = await this.pool.brokerCall(q.address, q.broker, RequestCode.PULL_MESSAGE, {
      consumerGroup: this.opts.group, topic: q.topic, queueId: q.queueId, queueOffset: q.nextPull, maxMsgNums: 32,
      sysFlag: 4, commitOffset: 0, suspendTimeoutMillis: 0, subscription: [...q.tags].join(' || '), subVersion: Date.now(), expressionType: 'TAG', bname: q.broker,
    });
    const next = Number(res.extFields.nextBeginOffset ?? q.nextPull);
    if (res.code === ResponseCode.PULL_NOT_FOUND || res.code === ResponseCode.PULL_RETRY_IMMEDIATELY) {
      q.nextPull = Math.max(q.nextPull, next);
    } else if (res.code === ResponseCode.SUCCESS) {
      const firstMatch = decodeMessages(res.body).find((m) => m.queueOffset >= q.nextPull && q.tags!.has(m.properties.TAGS ?? ''));
      q.nextPull = Math.max(q.nextPull, firstMatch ? firstMatch.queueOffset : next);
    }
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    if (!this.started) throw new MqlabError('ERR_INVALID_ARG', 'rocketmq consumer: start before receive');
    if (this.stopped) throw new MqlabError('ERR_CLOSED', 'rocketmq consumer is shut down');
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      // Pulls failing for a while and nothing buffered: the broker is gone; say so, naming it.
      if (this.pullFailure && this.buffer.length === 0 && Date.now() - this.pullFailure.since > 3000) throw this.pullFailure.error;
      const out: ReceivedMessage[] = [];
      const busy = new Set<QueueState>();
      if (this.opts.orderly) for (const h of this.handed.values()) busy.add(h.queue);
      const rest: typeof this.buffer = [];
      for (const b of this.buffer) {
        if (out.length >= options.maxMessages || (this.opts.orderly && busy.has(b.queue))) { rest.push(b); continue; }
        out.push(b.message);
        this.handed.set(b.message.msgId, b);
        if (this.opts.orderly) busy.add(b.queue);
      }
      this.buffer = rest;
      if (out.length > 0 || Date.now() >= deadline) return out;
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))); });
      if (this.stopped) return [];
    }
  }

  async settle(message: ReceivedMessage, status: ConsumeStatus): Promise<void> {
    const h = this.handed.get(message.msgId);
    if (!h) throw new MqlabError('ERR_INVALID_ARG', `rocketmq settle: message ${message.msgId} was not received by this consumer or is already settled`);
    this.handed.delete(message.msgId);
    const q = h.queue;
    if (status === 'RECONSUME_LATER' && this.clustering && !q.dropped) {
      const max = this.opts.maxReconsumeTimes ?? 16;
      if (this.opts.orderly && h.message.reconsumeTimes < max) {
        // Orderly consumers retry in place (the queue waits), as the Java orderly consumer does.
        const again = { ...h.message, reconsumeTimes: h.message.reconsumeTimes + 1 };
        q.inFlight.set(again.queueOffset, again);
        this.buffer.unshift({ queue: q, message: again, stored: h.stored });
        this.wake();
        return;
      }
      const res = await this.pool.brokerCall(h.stored.address, q.broker, RequestCode.CONSUMER_SEND_MSG_BACK, {
        offset: h.stored.commitLogOffset, group: this.opts.group,
        delayLevel: this.opts.orderly ? -1 : this.retryDelayLevel, originMsgId: h.stored.uniqKey, originTopic: h.stored.originTopic,
        unitMode: false, maxReconsumeTimes: max, bname: q.broker,
      });
      if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, `send back ${message.msgId} for retry`);
    }
    if (!q.dropped) q.inFlight.delete(h.message.queueOffset);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.wake();
    await this.rebalancing?.catch(() => undefined);
    for (const q of this.queues.values()) await this.skipFilteredTail(q).catch(() => undefined);
    await this.persistOffsets().catch(() => undefined);
    for (const b of await this.brokersOfSubscriptions().catch(() => [])) {
      await this.pool.brokerCall(b.address, b.name, RequestCode.UNREGISTER_CLIENT, { clientID: this.clientId, consumerGroup: this.opts.group }).catch(() => undefined);
    }
    for (const q of this.queues.values()) q.dropped = true;
    this.pool.close();
  }

  async crash(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const q of this.queues.values()) q.dropped = true;
    this.pool.close(true);
    this.wake();
  }

  /** For errors a background rebalance met (surfaced to tests through this accessor only). */
  get backgroundError(): MqlabError | null {
    return this.lastError;
  }
}

/** RocketMQ's AllocateMessageQueueAveragely: contiguous ranges, the first `rest` members get one more. */
function allocateAveragely<T>(queues: readonly T[], members: number, index: number): T[] {
  const mod = queues.length % members;
  const size = queues.length <= members ? 1 : mod > 0 && index < mod ? Math.floor(queues.length / members) + 1 : Math.floor(queues.length / members);
  const start = mod > 0 && index < mod ? index * size : index * size + mod;
  const range = Math.min(size, queues.length - start);
  const out: T[] = [];
  for (let i = 0; i < range; i++) out.push(queues[(start + i) % queues.length]!);
  return out;
}

class RocketAdapter implements BrokerAdapter {
  readonly info: BrokerAdapter['info'];
  private readonly consumers = new Set<RocketConsumer>();
  private readonly producers = new Set<RocketProducer>();

  constructor(private readonly nameserver: BrokerAddress, private readonly admin: ConnectionPool, private readonly timeoutMs: number, private readonly retryDelayLevel: number) {
    const capabilities: (BrokerCapability | CommonCapability)[] = [
      'tags', 'keys', 'query-by-id', 'ordered-selector', 'clustering', 'broadcasting', 'retry', 'dead-letter', 'delay-level',
      'consume-from', 'consumer-crash',
    ];
    if (isLocalPeer('rocketmq', nameserver)) capabilities.push('broker-restart');
    this.info = {
      model: 'rocketmq',
      name: `mqlab remoting client -> Apache RocketMQ at ${nameserver.url}`,
      guarantee: 'at-least-once',
      capabilities,
      timeouts: { receive: 15_000, lifecycle: 120_000 },
      // Across a socket on a loaded machine, 150 ms without a delivery is not "drained".
      quietMs: 750,
    };
  }

  /** Stops nameserver and broker and starts them on the same store (peers/rocketmq/restart.sh). */
  async restartBroker(): Promise<void> {
    await restartPeer('rocketmq', 120_000);
  }

  async createTopic(topic: string, spec: BrokerTopicSpec): Promise<void> {
    if (!Number.isInteger(spec.queues) || spec.queues < 1) throw new MqlabError('ERR_INVALID_ARG', 'queues must be a positive integer');
    let brokers = await clusterBrokers(this.admin);
    if (spec.brokers) brokers = brokers.filter((b) => spec.brokers!.includes(b.name));
    if (brokers.length === 0) throw new MqlabError('ERR_INVALID_ARG', `rocketmq: no broker named ${spec.brokers?.join(', ') ?? '(any)'} is registered`);
    for (const b of brokers) {
      const res = await this.admin.brokerCall(b.address, b.name, RequestCode.UPDATE_AND_CREATE_TOPIC, {
        topic, defaultTopic: AUTO_CREATE_TOPIC, readQueueNums: spec.queues, writeQueueNums: spec.queues, perm: 6,
        topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
      });
      if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, `create topic ${topic} on ${b.name}`);
    }
    // The broker registers the new topic with the nameserver at once; wait until the route shows it.
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const r = await fetchRoute(this.admin, topic);
      if (r && brokers.every((b) => r.readQueues.filter((q) => q.broker === b.name).length === spec.queues)) return;
      if (Date.now() > deadline) throw new MqlabError('ERR_TIMEOUT', `rocketmq topic ${topic} did not appear in the nameserver's routes within ${this.timeoutMs} ms`);
      await sleep(100);
    }
  }

  async route(topic: string): Promise<TopicRoute> {
    const r = await fetchRoute(this.admin, topic);
    if (!r) throw new MqlabError('TOPIC_NOT_EXIST', `rocketmq topic ${topic} has no route on the nameserver ${this.nameserver.url}`);
    return { topic, brokers: r.brokers, queues: r.readQueues.map((q): QueueRef => ({ broker: q.broker, queueId: q.queueId })) };
  }

  async producer(options: { group: string }): Promise<BrokerProducer> {
    const p = new RocketProducer(this.nameserver, this.timeoutMs, options.group);
    this.producers.add(p);
    return p;
  }

  async consumer(options: BrokerConsumerOptions): Promise<BrokerConsumer> {
    const c = new RocketConsumer(this.nameserver, this.timeoutMs, options, this.retryDelayLevel);
    this.consumers.add(c);
    return c;
  }

  async queryById(topic: string, msgId: string): Promise<ReceivedMessage | null> {
    const where = parseOffsetMsgId(msgId);
    if (!where) return null;
    // Only ask a broker the nameserver knows: a msgId must not send us to an arbitrary address.
    const broker = (await clusterBrokers(this.admin)).find((b) => b.address === where.address);
    if (!broker) return null;
    const res = await this.admin.brokerCall(broker.address, broker.name, RequestCode.VIEW_MESSAGE_BY_ID, { topic, offset: where.offset });
    if (res.code !== ResponseCode.SUCCESS) return null;
    const m = decodeMessages(res.body)[0];
    if (!m) return null;
    const received = toReceived(m, broker.name);
    return received.topic === topic || m.topic === topic ? received : null;
  }

  async queryByKey(topic: string, key: string): Promise<ReceivedMessage[]> {
    const r = await fetchRoute(this.admin, topic);
    if (!r) throw new MqlabError('TOPIC_NOT_EXIST', `rocketmq topic ${topic} has no route on the nameserver ${this.nameserver.url}`);
    const out: ReceivedMessage[] = [];
    for (const b of r.brokers) {
      const res = await this.admin.brokerCall(b.address, b.name, RequestCode.QUERY_MESSAGE, {
        topic, key, maxNum: 64, beginTimestamp: 0, endTimestamp: Date.now() + 60_000, _UNIQUE_KEY_QUERY: false,
      });
      if (res.code === ResponseCode.QUERY_NOT_FOUND) continue;
      if (res.code !== ResponseCode.SUCCESS) throw rocketError(res, `query ${topic} by key ${key}`);
      for (const m of decodeMessages(res.body)) {
        const rm = toReceived(m, b.name);
        // The key index is hashed: keep exact matches only.
        if (rm.keys.includes(key) && m.topic === topic) out.push(rm);
      }
    }
    return out.sort((a, b) => a.storeTimestamp - b.storeTimestamp || a.queueOffset - b.queueOffset);
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.shutdown().catch(() => undefined)));
    await Promise.all([...this.producers].map((p) => p.close()));
    this.admin.close();
  }
}

export async function createAdapter(options: AdapterOptions): Promise<BrokerAdapter> {
  const nameserver = parseBrokerUrl(options.url, ['rocketmq'], 9876);
  const timeoutMs = Number(options.params?.requestTimeoutMs ?? 5000);
  const retryDelayLevel = Number(options.params?.retryDelayLevel ?? 1);
  if (!Number.isInteger(retryDelayLevel) || retryDelayLevel < 0 || retryDelayLevel > 18) throw new MqlabError('ERR_INVALID_ARG', 'params.retryDelayLevel must be an integer 0..18');
  const admin = new ConnectionPool(nameserver, timeoutMs);
  let brokers: { name: string; address: string }[];
  try {
    brokers = await clusterBrokers(admin);
  } catch (e) {
    admin.close();
    if (e instanceof MqlabError && e.code === 'ERR_BROKER_UNREACHABLE' && e.message.startsWith('RocketMQ at')) throw e;
    throw brokerUnreachable('RocketMQ', nameserver, e);
  }
  if (brokers.length === 0) {
    admin.close();
    throw new MqlabError('ERR_BROKER_UNREACHABLE', `RocketMQ nameserver at ${nameserver.url} has no broker registered yet`, { broker: 'RocketMQ', address: nameserver.url });
  }
  return new RocketAdapter(nameserver, admin, timeoutMs, retryDelayLevel);
}
