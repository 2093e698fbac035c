import type { QueueEntry } from './message';
import type { FieldTable, ExchangeType } from './types';

/**
 * The persistence seams of the engine. Implementations (queue-log-store.ts,
 * definition-log-store.ts) keep everything in the storage core's CommitLog and IndexFile; an
 * engine opened without a data directory has none, and then nothing touches the disk.
 */

/** Persistent messages of one durable queue, with their ack state. */
export interface QueueStore {
  /** A persistent message entered the queue; written at the next flush unless settled first. */
  added(entry: QueueEntry): void;
  /** A persisted entry changed state (delivered, returned, gone). */
  changed(entry: QueueEntry): void;
  /**
   * Writes what is pending (batched per event-loop turn). True if anything was appended. Throws
   * the storage error (ERR_NO_SPACE …) when an append failed; its entries are then in `takeUnwritten`.
   */
  flush(): boolean;
  /** Entries whose append failed (not persisted), once each. */
  takeUnwritten(): QueueEntry[];
  /** Resolves when everything flushed so far is on stable storage. */
  durable(): Promise<void>;
  /** Entries that were live at the last close or crash, in queue order. */
  recover(): QueueEntry[];
  close(): void;
  /** Close and delete the files (the queue was deleted). */
  destroy(): void;
}

export interface ExchangeDefinition {
  name: string;
  type: ExchangeType;
  autoDelete: boolean;
  internal: boolean;
  alternateExchange?: string;
  args: FieldTable;
}

export interface QueueDefinition {
  name: string;
  autoDelete: boolean;
  args: FieldTable;
}

export interface BindingDefinition {
  exchange: string;
  queue: string;
  routingKey: string;
  args?: FieldTable;
}

export interface Definitions {
  exchanges: ExchangeDefinition[];
  queues: QueueDefinition[];
  bindings: BindingDefinition[];
}

/** Durable exchanges, queues and the bindings between them. */
export interface DefinitionStore {
  load(): Definitions;
  putExchange(def: ExchangeDefinition): void;
  deleteExchange(name: string): void;
  putQueue(def: QueueDefinition): void;
  deleteQueue(name: string): void;
  bind(def: BindingDefinition): void;
  unbind(def: BindingDefinition): void;
  close(): void;
}

export interface EngineStorageOptions {
  durability: import('./types').Durability;
  segmentBytes?: number | undefined;
  clock?: (() => number) | undefined;
  /** Records past which the definitions log is rewritten on open. */
  compactDefinitionsAfter?: number | undefined;
}

/** Opens the stores of one engine data directory. */
export interface EngineStorage {
  definitions: DefinitionStore;
  /**
   * Opens a durable queue's store. `fresh` (a queue being declared, not recovered): whatever is
   * on disk under its name is an orphan (a crash between deleting its definition and its files)
   * and is removed first; if opening fails, what was created is removed again.
   */
  openQueue(name: string, onDirty: (store: QueueStore) => void, makeEntry: EntryFactory, fresh: boolean): QueueStore;
  close(): void;
}

export type EntryFactory = (fields: RecoveredEntryFields) => QueueEntry;

export interface RecoveredEntryFields {
  order: number;
  exchange: string;
  routingKey: string;
  properties: import('./types').MessageProperties;
  content: Buffer;
  expiresAt: number;
  deliveryCount: number;
  delivered: boolean;
  storeSeq: number;
}
