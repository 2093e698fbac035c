import { Deque } from './deque';
import { EntryState, QueueEntry, type StoredMessage } from './message';
import type { QueueArguments } from './queue-arguments';
import type { QueueStore } from './store-types';
import type { Consumer } from './consumer';
import type { DeadLetterReason, FieldTable } from './types';

// Hot-path bindings: under tsx (esbuild) each use of an imported name is a getter call, so the
// names used per message are bound once here (tsc output is unaffected).
const READY = EntryState.Ready;
const UNACKED = EntryState.Unacked;
const GONE = EntryState.Gone;
const Entry = QueueEntry;

/** What a queue needs from the engine around it. */
export interface QueueHost {
  now(): number;
  /** Run `queue.dispatch()` soon (batched per event-loop turn). */
  scheduleDispatch(queue: Queue): void;
  /** Route a copy of `entry` to the queue's dead-letter exchange (or drop it). */
  deadLetter(queue: Queue, entry: QueueEntry, reason: DeadLetterReason): void;
  /** The last consumer left an auto-delete queue. */
  autoDeleteQueue(queue: Queue): void;
}

/** Most messages one dispatch pass hands out before yielding to other queues. */
const DISPATCH_BUDGET = 4096;

/**
 * One queue: ready messages in FIFO order, consumers served round-robin within their prefetch,
 * returned messages put back at their original position, TTL at the head, the delivery limit,
 * and the hooks into its store when durable.
 *
 * Ready messages live in two lists: `ready` holds never-delivered entries in publish order and
 * `returned` holds requeued ones sorted by `order`. Every returned entry was taken from the head
 * of `ready` earlier, so it precedes everything still in `ready`: the next message is always the
 * head of `returned`, else the head of `ready` — which keeps original positions cheaply.
 */
export class Queue {
  readonly ready = new Deque<QueueEntry>();
  readonly returned: QueueEntry[] = [];
  readonly consumers: Consumer[] = [];
  /** Delivered and not yet settled, over all channels. */
  unackedCount = 0;
  deleted = false;
  dispatchQueued = false;
  private hadConsumer = false;
  private rr = 0;
  private nextOrder = 0;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** True when the queue or any message in it has a TTL (skips expiry work otherwise). */
  private mayExpire: boolean;
  private readonly quorumHeaders: boolean;
  /** The default exchange's route to this queue (no allocation per publish). */
  readonly selfRoute: readonly Queue[] = [this];
  /** Holder of an exclusive consumer, if any. */
  exclusiveConsumer: Consumer | null = null;

  constructor(
    readonly name: string,
    readonly durable: boolean,
    readonly exclusiveOwner: object | null,
    readonly autoDelete: boolean,
    /** The declaration's arguments as given (compared on redeclaration). */
    readonly rawArgs: FieldTable,
    readonly args: QueueArguments,
    readonly host: QueueHost,
    public store: QueueStore | null,
  ) {
    this.mayExpire = args.messageTtl !== undefined;
    this.quorumHeaders = args.queueType === 'quorum' || args.deliveryLimit !== undefined;
  }

  get readyCount(): number {
    return this.ready.length + this.returned.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  /** x-delivery-count headers on redeliveries (quorum-queue behaviour). */
  get addsDeliveryCount(): boolean {
    return this.quorumHeaders;
  }

  /** Adds a published message. False when x-overflow reject-publish refused it. */
  enqueue(message: StoredMessage, now: number): boolean {
    if (this.args.maxLength !== undefined && this.readyCount >= this.args.maxLength) {
      if (this.args.overflow === 'reject-publish') return false;
      // drop-head: make room by dropping (dead-lettering) the oldest ready messages.
      while (this.readyCount >= this.args.maxLength) {
        const head = this.takeHead();
        if (!head) break;
        this.leave(head);
        this.host.deadLetter(this, head, 'maxlen');
      }
      if (this.args.maxLength === 0) return true;
    }
    let expiresAt = Infinity;
    const ttl = this.args.messageTtl;
    if (ttl !== undefined) expiresAt = now + ttl;
    if (message.ttlMs >= 0) {
      expiresAt = Math.min(expiresAt, now + message.ttlMs);
      this.mayExpire = true;
    }
    const entry = new Entry(this, message, this.nextOrder++, expiresAt);
    this.ready.push(entry);
    if (this.store !== null && message.persistent) this.store.added(entry);
    if (this.consumers.length > 0 && !this.dispatchQueued) this.host.scheduleDispatch(this);
    if (expiresAt !== Infinity && this.expiryTimer === null) this.armExpiryTimer(now);
    return true;
  }

  /** Recovery: re-adds an entry read back from the store, in store order. */
  restore(entry: QueueEntry): void {
    if (entry.order >= this.nextOrder) this.nextOrder = entry.order + 1;
    if (entry.expiresAt !== Infinity) this.mayExpire = true;
    this.ready.push(entry);
  }

  /** Next ready entry, expiring (dead-lettering) stale heads on the way. */
  takeReady(now: number): QueueEntry | undefined {
    for (;;) {
      const entry = this.takeHead();
      if (entry === undefined) return undefined;
      if (entry.expiresAt < now) {
        this.leave(entry);
        this.host.deadLetter(this, entry, 'expired');
        continue;
      }
      return entry;
    }
  }

  private takeHead(): QueueEntry | undefined {
    return this.returned.length > 0 ? this.returned.shift() : this.ready.shift();
  }

  /** Hand ready messages to consumers with room, round-robin (fair dispatch). */
  dispatch(): void {
    this.dispatchQueued = false;
    if (this.deleted || this.consumers.length === 0 || this.readyCount === 0) return;
    const now = this.host.now();
    let budget = DISPATCH_BUDGET;
    while (budget-- > 0) {
      const consumer = this.nextConsumerWithRoom();
      if (consumer === undefined) return;
      const entry = this.takeReady(now);
      if (entry === undefined) return;
      consumer.deliver(entry);
      if (this.deleted) return;
    }
    if (this.readyCount > 0) this.host.scheduleDispatch(this);
  }

  private nextConsumerWithRoom(): Consumer | undefined {
    const list = this.consumers;
    const n = list.length;
    if (n === 1) return list[0]!.hasRoom() ? list[0] : undefined;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const c = list[idx]!;
      if (c.hasRoom()) {
        this.rr = (idx + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  /** An entry goes to a holder (consumer or `get`) until settled. */
  markUnacked(entry: QueueEntry): void {
    entry.state = UNACKED;
    this.unackedCount++;
    if (entry.storeSeq >= 0) this.store?.changed(entry);
  }

  /** Delivered with auto-ack, or acked: gone for good. */
  settle(entry: QueueEntry): void {
    if (entry.state === UNACKED) this.unackedCount--;
    this.leave(entry);
  }

  /** nack/reject with requeue, or the holder went away: back at its original position. */
  requeue(entry: QueueEntry): void {
    if (entry.state === UNACKED) this.unackedCount--;
    if (this.deleted) {
      entry.state = GONE;
      return;
    }
    entry.deliveryCount++;
    entry.redelivered = true;
    if (this.args.deliveryLimit !== undefined && entry.deliveryCount > this.args.deliveryLimit) {
      this.leave(entry);
      this.host.deadLetter(this, entry, 'delivery_limit');
      return;
    }
    entry.state = READY;
    if (entry.storeSeq >= 0) this.store?.changed(entry);
    const list = this.returned;
    if (list.length === 0 || list[list.length - 1]!.order < entry.order) list.push(entry);
    else list.splice(lowerBound(list, entry.order), 0, entry);
    if (this.consumers.length > 0 && !this.dispatchQueued) this.host.scheduleDispatch(this);
    if (entry.expiresAt !== Infinity && this.expiryTimer === null) this.armExpiryTimer(this.host.now());
  }

  /** nack/reject without requeue: dead-lettered (reason `rejected`) or dropped. */
  reject(entry: QueueEntry): void {
    if (entry.state === UNACKED) this.unackedCount--;
    if (this.deleted) {
      entry.state = GONE;
      return;
    }
    this.leave(entry);
    this.host.deadLetter(this, entry, 'rejected');
  }

  private leave(entry: QueueEntry): void {
    entry.state = GONE;
    if (entry.storeSeq >= 0) this.store?.changed(entry);
  }

  /** Expire (dead-letter) stale messages at the head; returns how many. */
  expireHead(now: number): number {
    if (!this.mayExpire || this.deleted) return 0;
    let n = 0;
    for (;;) {
      const list = this.returned.length > 0 ? null : this.ready;
      const head = list === null ? this.returned[0] : list.peek();
      if (head === undefined || !(head.expiresAt < now)) break;
      if (list === null) this.returned.shift();
      else list.shift();
      this.leave(head);
      this.host.deadLetter(this, head, 'expired');
      n++;
    }
    return n;
  }

  private armExpiryTimer(now: number): void {
    const head = this.returned.length > 0 ? this.returned[0] : this.ready.peek();
    if (head === undefined || head.expiresAt === Infinity) return;
    const delay = Math.max(1, Math.min(2 ** 31 - 1, head.expiresAt - now + 1));
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.deleted) return;
      const t = this.host.now();
      this.expireHead(t);
      this.armExpiryTimer(t);
    }, delay);
    this.expiryTimer.unref();
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.hadConsumer = true;
    if (this.readyCount > 0) this.host.scheduleDispatch(this);
  }

  removeConsumer(consumer: Consumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.rr >= this.consumers.length) this.rr = 0;
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumer && !this.deleted) this.host.autoDeleteQueue(this);
  }

  /**
   * Takes back entries whose store write failed (their publish is nacked): those still ready
   * leave the queue; one already delivered stays with its consumer, as a message in memory.
   */
  withdraw(entries: ReadonlySet<QueueEntry>): void {
    const keep = this.ready.clear().filter((e) => !entries.has(e));
    for (const e of keep) this.ready.push(e);
    const returned = this.returned.filter((e) => !entries.has(e));
    this.returned.length = 0;
    this.returned.push(...returned);
    for (const e of entries) if (e.state === READY) e.state = GONE;
  }

  /** Drops every ready message (not the unacked ones); returns how many. */
  purge(): number {
    const all = [...this.returned, ...this.ready.clear()];
    this.returned.length = 0;
    for (const e of all) this.leave(e);
    return all.length;
  }

  /** Marks the queue deleted; returns the ready messages it had. */
  destroy(): number {
    const n = this.purge();
    this.deleted = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    return n;
  }

  /** Stops timers (engine close) without touching messages. */
  stopTimers(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }
}

function lowerBound(list: QueueEntry[], order: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.order < order) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
