import { BROKER_CHANNEL_EXPIRED_MS } from './constants';
import { RocketErrors } from './errors';
import type { BrokerData, BrokerRegistration, NameServerApi, QueueData, TopicRouteData } from './route';
import { checkTopic } from './validators';

export interface NameServerOptions {
  /** ms since epoch; registration times and expiry. Default Date.now. */
  clock?: () => number;
  /** A broker not registered for this long is dropped from every route (ms). Default 120 s. */
  brokerExpiredMs?: number;
  /** How often `start()` scans for expired brokers (ms). Default 5 s. */
  scanIntervalMs?: number;
}

interface LiveBroker {
  lastUpdate: number;
  reg: BrokerRegistration;
}

/**
 * The routing registry (RocketMQ NameServer): brokers register their address and topics every
 * `registerIntervalMs`; a broker silent for longer than `brokerExpiredMs` is removed; clients ask
 * for a topic's route (which brokers, how many queues on each).
 */
export class NameServer implements NameServerApi {
  private readonly clock: () => number;
  private readonly expiredMs: number;
  private readonly live = new Map<string, LiveBroker>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: NameServerOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.expiredMs = options.brokerExpiredMs ?? BROKER_CHANNEL_EXPIRED_MS;
  }

  start(): this {
    if (!this.timer) {
      this.timer = setInterval(() => this.scanNotActiveBroker(), this.options.scanIntervalMs ?? 5000);
      this.timer.unref();
    }
    return this;
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  registerBroker(reg: BrokerRegistration): void {
    if (reg === null || typeof reg !== 'object' || typeof reg.brokerAddr !== 'string' || typeof reg.brokerName !== 'string' ||
      !Array.isArray(reg.topicConfigs) || !reg.topicConfigs.every((c) => c !== null && typeof c === 'object' && typeof c.topicName === 'string')) {
      throw RocketErrors.invalid('broker registration', 'an object with brokerName, brokerAddr and topicConfigs');
    }
    this.live.set(reg.brokerAddr, { lastUpdate: this.clock(), reg: { ...reg, topicConfigs: reg.topicConfigs.map((t) => ({ ...t })) } });
  }

  unregisterBroker(_clusterName: string, _brokerName: string, brokerAddr: string): void {
    this.live.delete(brokerAddr);
  }

  /** Drops brokers whose last registration is older than the expiry; returns their addresses. */
  scanNotActiveBroker(now = this.clock()): string[] {
    const expired: string[] = [];
    for (const [addr, b] of this.live) {
      if (now - b.lastUpdate > this.expiredMs) {
        this.live.delete(addr);
        expired.push(addr);
      }
    }
    return expired;
  }

  getRouteInfoByTopic(topic: string): TopicRouteData {
    checkTopic(topic);
    const queueDatas: QueueData[] = [];
    const brokers = new Map<string, BrokerData>();
    for (const { reg } of this.live.values()) {
      const cfg = reg.topicConfigs.find((t) => t.topicName === topic);
      if (!cfg) continue;
      if (!queueDatas.some((q) => q.brokerName === reg.brokerName)) {
        queueDatas.push({ brokerName: reg.brokerName, readQueueNums: cfg.readQueueNums, writeQueueNums: cfg.writeQueueNums, perm: cfg.perm });
      }
      let bd = brokers.get(reg.brokerName);
      if (!bd) brokers.set(reg.brokerName, (bd = { cluster: reg.clusterName, brokerName: reg.brokerName, brokerAddrs: {} }));
      bd.brokerAddrs[reg.brokerId] = reg.brokerAddr;
    }
    if (queueDatas.length === 0) throw RocketErrors.noRoute(topic);
    queueDatas.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
    return { queueDatas, brokerDatas: [...brokers.values()] };
  }

  /** Live brokers: name → address (RocketMQ `getBrokerClusterInfo`, in short). */
  brokerAddresses(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { reg } of this.live.values()) out[reg.brokerName] = reg.brokerAddr;
    return out;
  }

  allTopics(): string[] {
    const set = new Set<string>();
    for (const { reg } of this.live.values()) for (const t of reg.topicConfigs) set.add(t.topicName);
    return [...set].sort();
  }
}
