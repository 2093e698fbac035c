import type { MessageProperties } from './types';
import type { Queue } from './queue';

/**
 * A published message, shared (never copied) by every queue it is routed to. Immutable once
 * published: per-queue state lives in `QueueEntry`.
 */
export class StoredMessage {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly content: Buffer,
    readonly properties: MessageProperties,
    readonly persistent: boolean,
    /** Per-message TTL in ms from the `expiration` property (-1 = none). */
    readonly ttlMs: number,
  ) {}
}

export const enum EntryState {
  /** In the queue's ready list. */
  Ready = 0,
  /** Handed to a consumer (or to `get`) and not yet settled. */
  Unacked = 1,
  /** Acked, dropped, expired or dead-lettered: gone from this queue. */
  Gone = 2,
}

/**
 * One message in one queue: its position (`order`, for requeueing at the original place), its
 * delivery history and, while unacked, which channel holds it under which tag.
 */
export class QueueEntry {
  state: EntryState = EntryState.Ready;
  /** Deliveries returned to the queue so far (nack/reject requeue, channel loss). */
  deliveryCount = 0;
  redelivered = false;
  /** Absolute expiry on the engine clock (Infinity = never). */
  expiresAt: number;
  /** Slot in the queue's ack index once persisted (-1 = not on disk). */
  storeSeq = -1;
  /** Set while unacked. */
  deliveryTag = 0;
  holder: DeliveryHolder | null = null;
  /** Set while the persisted state needs rewriting at the next store flush. */
  storeDirty = false;

  constructor(
    readonly queue: Queue,
    readonly message: StoredMessage,
    readonly order: number,
    expiresAt: number,
  ) {
    this.expiresAt = expiresAt;
  }
}

/** Whoever holds an unacked entry: a consumer, or a channel for `get` deliveries. */
export interface DeliveryHolder {
  /** Called when the entry leaves the holder (ack, nack, requeue, dead-letter). */
  released(entry: QueueEntry): void;
}
