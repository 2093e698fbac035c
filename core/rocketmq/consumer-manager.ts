import { CLIENT_CHANNEL_EXPIRED_MS } from './constants';
import type { ConsumerHeartbeat, GroupMembers, MessageModel, QueueRef, SubscriptionSpec } from './broker-api';

interface ClientInfo {
  clientId: string;
  lastUpdate: number;
  messageModel: MessageModel;
  subscriptions: SubscriptionSpec[];
}

interface GroupInfo {
  clients: Map<string, ClientInfo>;
  version: number;
  watchers: Array<() => void>;
  /** `topic#queueId` → client holding it (CLUSTERING queue ownership across rebalances). */
  locks: Map<string, string>;
}

/**
 * The broker's view of consumer groups: which clients are online (heartbeats, expiry by the
 * injected clock), a version that changes on every join / leave so members rebalance, and
 * queue locks so a queue is consumed by one member at a time while ownership moves.
 */
export class ConsumerManager {
  private readonly groups = new Map<string, GroupInfo>();

  constructor(private readonly clock: () => number, private readonly expiredMs = CLIENT_CHANNEL_EXPIRED_MS) {}

  private group(name: string): GroupInfo {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { clients: new Map(), version: 0, watchers: [], locks: new Map() }));
    return g;
  }

  heartbeat(hb: ConsumerHeartbeat): void {
    const g = this.group(hb.group);
    const known = g.clients.get(hb.clientId);
    g.clients.set(hb.clientId, { clientId: hb.clientId, lastUpdate: this.clock(), messageModel: hb.messageModel, subscriptions: hb.subscriptions });
    if (!known) this.changed(g);
  }

  unregister(clientId: string, group: string): void {
    const g = this.groups.get(group);
    if (!g || !g.clients.delete(clientId)) return;
    this.releaseLocksOf(g, clientId);
    this.changed(g);
  }

  /** Drops clients whose last heartbeat is older than the expiry; returns their ids. */
  scanNotActive(now = this.clock()): string[] {
    const expired: string[] = [];
    for (const g of this.groups.values()) {
      let changed = false;
      for (const c of [...g.clients.values()]) {
        if (now - c.lastUpdate > this.expiredMs) {
          g.clients.delete(c.clientId);
          this.releaseLocksOf(g, c.clientId);
          expired.push(c.clientId);
          changed = true;
        }
      }
      if (changed) this.changed(g);
    }
    return expired;
  }

  clientIds(group: string): string[] {
    return [...(this.groups.get(group)?.clients.keys() ?? [])].sort();
  }

  members(group: string): GroupMembers {
    const g = this.groups.get(group);
    return { version: g?.version ?? 0, clientIds: this.clientIds(group) };
  }

  subscriptionsOf(group: string): SubscriptionSpec[] {
    const seen = new Map<string, SubscriptionSpec>();
    for (const c of this.groups.get(group)?.clients.values() ?? []) for (const s of c.subscriptions) seen.set(s.topic, s);
    return [...seen.values()];
  }

  waitChange(group: string, knownVersion: number, timeoutMs: number): GroupMembers | Promise<GroupMembers> {
    const g = this.group(group);
    if (g.version !== knownVersion || timeoutMs <= 0) return this.members(group);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        g.watchers = g.watchers.filter((w) => w !== done);
        resolve(this.members(group));
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref?.();
      g.watchers.push(done);
    });
  }

  lock(group: string, clientId: string, queues: QueueRef[]): QueueRef[] {
    const g = this.group(group);
    const locked: QueueRef[] = [];
    for (const q of queues) {
      const key = q.topic + '#' + q.queueId;
      const owner = g.locks.get(key);
      if (owner === undefined || owner === clientId || !g.clients.has(owner)) {
        g.locks.set(key, clientId);
        locked.push(q);
      }
    }
    return locked;
  }

  unlock(group: string, clientId: string, queues: QueueRef[]): void {
    const g = this.groups.get(group);
    if (!g) return;
    for (const q of queues) {
      const key = q.topic + '#' + q.queueId;
      if (g.locks.get(key) === clientId) g.locks.delete(key);
    }
  }

  /** Wakes every waiting watcher (shutdown). */
  wakeAll(): void {
    for (const g of this.groups.values()) this.changed(g, false);
  }

  private releaseLocksOf(g: GroupInfo, clientId: string): void {
    for (const [k, owner] of [...g.locks]) if (owner === clientId) g.locks.delete(k);
  }

  private changed(g: GroupInfo, bump = true): void {
    if (bump) g.version++;
    const w = g.watchers;
    g.watchers = [];
    for (const f of w) f();
  }
}
