import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlushPolicy } from '../log/types';
import { describeValue, Errors } from '../errors';
import { optionsArg } from './validate';
import { KafkaErrors } from './errors';
import { checkTopicName, Topic, type TopicConfig } from './topic';
import { OffsetStore } from './offset-store';
import { GroupCoordinator } from './group-coordinator';
import { Producer, type ProducerOptions } from './producer';
import { Consumer, type ConsumerOptions } from './consumer';

/** Atomics.waitAsync (Node 16+), missing from the ES2022 lib typings. */
export interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

export interface KafkaEngineOptions {
  /** ms since the epoch; drives record timestamps, retention and session timeouts. Default Date.now. */
  clock?: () => number;
  /** auto.create.topics.enable: a send or subscribe to an unknown topic creates it. Default false. */
  autoCreateTopics?: boolean;
  /** num.partitions for auto-created topics and createTopic without a count. Default 1. */
  defaultPartitions?: number;
  /** retention.ms default for new topics. Default 168 h (Kafka's). -1 keeps forever. */
  retentionMs?: number;
  /** retention.bytes (per partition) default for new topics. Default -1 (unbounded). */
  retentionBytes?: number;
  /** segment.bytes default for new topics. Default 16 MiB. */
  segmentBytes?: number;
  /** segment.ms (log.roll.ms) default for new topics: the active segment rolls once its first record is this old. Default 168 h (Kafka's). */
  segmentMs?: number;
  /** message.max.bytes: largest record batch, so also the largest single record. Default 1 MiB + 12 (Kafka's 1048588). */
  maxMessageBytes?: number;
  /** index.interval.bytes: log bytes between offset-index entries. Default 4096. */
  indexIntervalBytes?: number;
  /** Flush policy of the partition logs (acks 'all' always waits for durability). Default 'none'. */
  flush?: FlushPolicy;
  /** log.retention.check.interval.ms: how often retention runs on a timer; 0 disables the timer. Default 300000. */
  retentionCheckIntervalMs?: number;
}

export interface CreateTopicOptions {
  numPartitions?: number;
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  segmentMs?: number;
}

export interface PartitionInfo {
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
}

/**
 * An in-process Kafka: topics of partitions on mqlab's commit log, producers, consumer groups with
 * committed offsets, retention. Everything lives under `dataDir` and survives a restart:
 *   dataDir/topics/<topic>/topic.json          topic config
 *   dataDir/topics/<topic>/<partition>/log/    the partition's commit log (record batches)
 *   dataDir/topics/<topic>/<partition>/*.index offset and time indexes (rebuilt from the log if lost)
 *   dataDir/__consumer_offsets/                committed offsets (a commit log, synced per commit)
 */
export class KafkaEngine {
  readonly dataDir: string;
  readonly clock: () => number;
  readonly maxMessageBytes: number;
  readonly coordinator: GroupCoordinator;
  readonly offsets: OffsetStore;
  private readonly options: Required<Omit<KafkaEngineOptions, 'clock'>>;
  private readonly topics = new Map<string, Topic>();
  private readonly consumers = new Set<Consumer>();
  /** Bumped (and Atomics-notified) by every append and group change, by this thread or a worker's attached producer. */
  readonly changes = new SharedArrayBuffer(4);
  private readonly changeCounter = new Int32Array(this.changes);
  private retentionTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(dataDir: string, options: KafkaEngineOptions) {
    this.dataDir = path.resolve(dataDir);
    this.clock = options.clock ?? Date.now;
    this.options = {
      autoCreateTopics: options.autoCreateTopics ?? false,
      defaultPartitions: options.defaultPartitions ?? 1,
      retentionMs: options.retentionMs ?? 168 * 3600 * 1000,
      retentionBytes: options.retentionBytes ?? -1,
      segmentBytes: options.segmentBytes ?? 16 * 1024 * 1024,
      segmentMs: options.segmentMs ?? 168 * 3600 * 1000,
      maxMessageBytes: options.maxMessageBytes ?? 1048588,
      indexIntervalBytes: options.indexIntervalBytes ?? 4096,
      flush: options.flush ?? 'none',
      retentionCheckIntervalMs: options.retentionCheckIntervalMs ?? 300000,
    };
    checkPartitions(this.options.defaultPartitions);
    if (!Number.isInteger(this.options.maxMessageBytes) || this.options.maxMessageBytes < 64) throw Errors.invalidArg('options.maxMessageBytes', 'an integer >= 64');
    checkSegmentMs(this.options.segmentMs, 'options.segmentMs');
    if (!Number.isInteger(this.options.indexIntervalBytes) || this.options.indexIntervalBytes < 1) throw Errors.invalidArg('options.indexIntervalBytes', 'a positive integer');
    this.maxMessageBytes = this.options.maxMessageBytes;
    fs.mkdirSync(path.join(this.dataDir, 'topics'), { recursive: true });
    this.offsets = new OffsetStore(path.join(this.dataDir, '__consumer_offsets'), this.clock);
    try {
      for (const entry of fs.readdirSync(path.join(this.dataDir, 'topics'))) {
        const t = Topic.load(path.join(this.dataDir, 'topics', entry), this.partitionBase(), this.options.segmentMs);
        if (t !== null) this.topics.set(t.name, t);
      }
    } catch (e) {
      for (const t of this.topics.values()) t.close();
      this.offsets.close();
      throw e;
    }
    this.coordinator = new GroupCoordinator(this.clock, (t) => this.topics.get(t)?.partitions.length, () => this.notifyAppended());
    if (this.options.retentionCheckIntervalMs > 0) {
      this.retentionTimer = setInterval(() => this.applyRetention(), this.options.retentionCheckIntervalMs);
      this.retentionTimer.unref();
    }
  }

  /** Opens (creating if needed) the engine in `dataDir`. Another process holding it gets ERR_LOCKED. */
  static open(dataDir: string, options: KafkaEngineOptions = {}): KafkaEngine {
    if (typeof dataDir !== 'string' || dataDir.length === 0) throw Errors.invalidArg('dataDir', 'a non-empty path');
    return new KafkaEngine(dataDir, optionsArg(options, 'options'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private partitionBase() {
    return { maxBatchBytes: this.options.maxMessageBytes, indexIntervalBytes: this.options.indexIntervalBytes, flush: this.options.flush, clock: this.clock };
  }

  createTopic(name: string, options: CreateTopicOptions = {}): void {
    this.ensureOpen();
    checkTopicName(name);
    options = optionsArg(options, 'createTopic(options)');
    if (this.topics.has(name)) throw KafkaErrors.topicExists(name);
    const config: TopicConfig = {
      numPartitions: checkPartitions(options.numPartitions ?? this.options.defaultPartitions),
      retentionMs: options.retentionMs ?? this.options.retentionMs,
      retentionBytes: options.retentionBytes ?? this.options.retentionBytes,
      segmentBytes: options.segmentBytes ?? this.options.segmentBytes,
      segmentMs: checkSegmentMs(options.segmentMs ?? this.options.segmentMs, 'options.segmentMs'),
    };
    for (const k of ['retentionMs', 'retentionBytes'] as const) {
      if (!Number.isInteger(config[k]) || config[k] < -1) throw Errors.invalidArg(`options.${k}`, 'an integer >= -1 (-1: unlimited)');
    }
    if (!Number.isInteger(config.segmentBytes) || config.segmentBytes < 4096) throw Errors.invalidArg('options.segmentBytes', 'an integer >= 4096');
    const t = Topic.create(path.join(this.dataDir, 'topics'), name, config, this.partitionBase());
    this.topics.set(name, t);
    this.coordinator.topicsChanged(name);
  }

  /** Deletes a topic and its data. Consumers assigned to it lose it at their next rebalance. */
  deleteTopic(name: string): void {
    this.ensureOpen();
    const t = this.topics.get(name);
    if (t === undefined) {
      checkTopicName(name);
      throw KafkaErrors.unknownTopic(name);
    }
    this.topics.delete(name);
    t.close();
    fs.rmSync(t.dir, { recursive: true, force: true });
    this.coordinator.topicsChanged(name);
  }

  listTopics(): string[] {
    return [...this.topics.keys()].sort();
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  describeTopic(name: string): { name: string; config: TopicConfig; partitions: PartitionInfo[] } {
    const t = this.topicForRead(name);
    return { name, config: { ...t.config }, partitions: t.partitions.map((p) => ({ partition: p.id, logStartOffset: p.logStartOffset, logEndOffset: p.nextOffset })) };
  }

  producer(options?: ProducerOptions): Producer {
    this.ensureOpen();
    return new Producer(this, options);
  }

  consumer(options?: ConsumerOptions): Consumer {
    this.ensureOpen();
    const c = new Consumer(this, options);
    this.consumers.add(c);
    return c;
  }

  /** Runs retention on every partition (at `now`, default the clock). Returns partitions whose log start moved. */
  applyRetention(now: number = this.clock()): Array<{ topic: string; partition: number; logStartOffset: number }> {
    this.ensureOpen();
    if (typeof now !== 'number' || !Number.isFinite(now)) throw Errors.invalidArg('applyRetention(now)', `a time in ms, got ${describeValue(now)}`);
    const moved: Array<{ topic: string; partition: number; logStartOffset: number }> = [];
    for (const t of this.topics.values()) for (const p of t.partitions) if (p.applyRetention(now)) moved.push({ topic: t.name, partition: p.id, logStartOffset: p.logStartOffset });
    return moved;
  }

  /** Committed offsets of a group. */
  committedOffsets(groupId: string): Array<{ topic: string; partition: number; offset: number }> {
    if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > 255) throw KafkaErrors.invalidGroupId(groupId);
    return this.offsets.list(groupId);
  }

  /** Blocks until every partition and index is on disk. */
  flushSync(): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.flushSync();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    for (const c of [...this.consumers]) c.abandon();
    this.notifyAppended();
    let first: unknown;
    for (const t of this.topics.values()) {
      try {
        t.close();
      } catch (e) {
        first ??= e;
      }
    }
    try {
      this.offsets.close();
    } catch (e) {
      first ??= e;
    }
    if (first !== undefined) throw first;
  }

  // ---- used by producers and consumers ----

  /** The topic for a send: validated name, auto-created when allowed. */
  topicForWrite(name: string): Topic {
    this.ensureOpen();
    const t = this.topics.get(name);
    if (t !== undefined) return t;
    checkTopicName(name);
    if (!this.options.autoCreateTopics) throw KafkaErrors.unknownTopic(name);
    this.createTopic(name);
    return this.topics.get(name)!;
  }

  topicForRead(name: string): Topic {
    return this.topicForWrite(name);
  }

  /** Wakes pollers waiting for records or group changes (on any thread: see `changes`). */
  notifyAppended(): void {
    Atomics.add(this.changeCounter, 0, 1);
    Atomics.notify(this.changeCounter, 0);
  }

  /** Resolves on the next append (by any thread) or group change, or after timeoutMs. */
  async waitForChange(timeoutMs: number, seen: number = Atomics.load(this.changeCounter, 0)): Promise<void> {
    await waitForCounter(this.changeCounter, seen, timeoutMs);
  }

  /** The change counter's current value, to pass to waitForChange so no change is missed. */
  get changeCount(): number {
    return Atomics.load(this.changeCounter, 0);
  }

  forgetConsumer(c: Consumer): void {
    this.consumers.delete(c);
  }

  private ensureOpen(): void {
    if (this.closed) throw Errors.closed('Kafka engine');
  }
}

/** segment.ms: a whole number of ms, at least 1 (Kafka's range). */
function checkSegmentMs(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw Errors.invalidArg(what, `an integer >= 1 (ms), got ${describeValue(v)}`);
  return v;
}

function checkPartitions(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10000) throw KafkaErrors.invalidPartitions(n);
  return n;
}

/**
 * Resolves when `counter[0]` differs from `seen` (Atomics.waitAsync), or after timeoutMs. A pending
 * waitAsync does not keep Node's event loop alive, so a timer does while waiting.
 */
export async function waitForCounter(counter: Int32Array, seen: number, timeoutMs: number): Promise<void> {
  const r = (Atomics as unknown as AtomicsWaitAsync).waitAsync(counter, 0, seen, timeoutMs);
  if (!r.async) return;
  const keepAlive = setTimeout(() => undefined, timeoutMs + 1);
  try {
    await r.value;
  } finally {
    clearTimeout(keepAlive);
  }
}
