import { threadId } from 'node:worker_threads';
import { MqlabError } from '../errors';
import type { BrokerApi } from './broker-api';
import { RocketErrors } from './errors';
import { compareMessageQueues, type MessageExt, type MessageQueue } from './message';
import { decodeMessageId } from './message-id';
import { PERM_READ, PERM_WRITE } from './broker-api';
import type { TopicRouteData } from './route';
import type { Transport } from './transport';
import { checkMessageQueue, checkTopic } from './validators';

let instanceSeq = 0;

/** RocketMQ's default instance name is the process id; threads and instances get a suffix. */
export function defaultInstanceName(): string {
  return `${process.pid}-${threadId}-${++instanceSeq}`;
}

export function clientIdOf(instanceName: string): string {
  return `127.0.0.1@${instanceName}`;
}

interface CachedRoute {
  route: TopicRouteData;
  writeQueues: MessageQueue[];
  readQueues: MessageQueue[];
  brokerAddrs: Map<string, string>;
}

/**
 * What producers and consumers share (RocketMQ's MQClientInstance, in short): the route cache
 * from the NameServer, finding a broker by name, and the admin queries by msgId and key.
 */
export class MQClient {
  private readonly routes = new Map<string, CachedRoute>();

  constructor(readonly transport: Transport) {}

  async route(topic: string, refresh = false): Promise<CachedRoute> {
    const cached = this.routes.get(topic);
    if (cached && !refresh) return cached;
    checkTopic(topic);
    const route = await this.transport.nameServer.getRouteInfoByTopic(topic);
    const brokerAddrs = new Map<string, string>();
    for (const bd of route.brokerDatas) {
      const addr = bd.brokerAddrs[0];
      if (addr !== undefined) brokerAddrs.set(bd.brokerName, addr);
    }
    const writeQueues: MessageQueue[] = [];
    const readQueues: MessageQueue[] = [];
    for (const qd of route.queueDatas) {
      if (!brokerAddrs.has(qd.brokerName)) continue;
      if (qd.perm & PERM_WRITE) for (let q = 0; q < qd.writeQueueNums; q++) writeQueues.push({ topic, brokerName: qd.brokerName, queueId: q });
      if (qd.perm & PERM_READ) for (let q = 0; q < qd.readQueueNums; q++) readQueues.push({ topic, brokerName: qd.brokerName, queueId: q });
    }
    readQueues.sort(compareMessageQueues);
    const entry = { route, writeQueues, readQueues, brokerAddrs };
    this.routes.set(topic, entry);
    return entry;
  }

  /** The cached route, without asking the NameServer (the send path's common case). */
  cachedRoute(topic: string): CachedRoute | undefined {
    return this.routes.get(topic);
  }

  /** The broker of a queue when its route is cached, else undefined. */
  cachedBroker(mq: MessageQueue): BrokerApi | undefined {
    checkMessageQueue('mq', mq);
    const addr = this.routes.get(mq.topic)?.brokerAddrs.get(mq.brokerName);
    return addr === undefined ? undefined : this.transport.broker(addr);
  }

  forgetRoute(topic: string): void {
    this.routes.delete(topic);
  }

  async brokerFor(mq: MessageQueue): Promise<BrokerApi> {
    checkMessageQueue('mq', mq);
    let r = await this.route(mq.topic);
    let addr = r.brokerAddrs.get(mq.brokerName);
    if (addr === undefined) {
      r = await this.route(mq.topic, true);
      addr = r.brokerAddrs.get(mq.brokerName);
    }
    if (addr === undefined) throw RocketErrors.brokerNotFound(mq.brokerName);
    return this.transport.broker(addr);
  }

  /** Every broker address serving `topic`. */
  async brokersOf(topic: string): Promise<BrokerApi[]> {
    const r = await this.route(topic);
    return [...r.brokerAddrs.values()].map((a) => this.transport.broker(a));
  }

  /** The message a msgId points at (broker address + CommitLog offset). */
  async viewMessage(msgId: string): Promise<MessageExt> {
    const { storeHost, commitLogOffset } = decodeMessageId(msgId);
    let broker: BrokerApi;
    try {
      broker = this.transport.broker(storeHost);
    } catch {
      throw RocketErrors.queryNotFound(`msgId ${msgId} (broker ${storeHost} unknown)`, { msgId });
    }
    return broker.viewMessage(commitLogOffset);
  }

  /** Messages of `topic` carrying `key`, stored between `begin` and `end` (ms), on every broker. */
  async queryMessage(topic: string, key: string, maxNum = 32, begin = 0, end = Number.MAX_SAFE_INTEGER): Promise<MessageExt[]> {
    const out: MessageExt[] = [];
    for (const b of await this.brokersOf(topic)) out.push(...(await b.queryMessage(topic, key, maxNum, begin, end)));
    if (out.length === 0) throw new MqlabError('NO_MESSAGE', 'query message by key finished, but no message.', { topic, key });
    out.sort((a, b) => a.storeTimestamp - b.storeTimestamp || a.commitLogOffset - b.commitLogOffset);
    return out.slice(0, maxNum);
  }
}
