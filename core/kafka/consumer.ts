import type { AssignorName, ConsumerRecord, OffsetResetPolicy, TopicPartition, TopicPartitionOffset } from './types';
import type { KafkaEngine } from './engine';
import type { Partition, PartitionAttachInfo } from './partition';
import type { LogRecord } from '../log/types';
import { batchNextOffset, decodeBatch } from './record-batch';
import { KafkaErrors } from './errors';
import { describeValue, Errors, isMqlabError, MqlabError } from '../errors';
import { listArg, optionsArg, topicPartitionArg } from './validate';

export interface ConsumerOptions {
  /** group.id; needed for subscribe and commit. */
  groupId?: string;
  clientId?: string;
  /** auto.offset.reset: where to start when the group has no committed offset, or it is out of range. Default 'latest' (Kafka's). */
  autoOffsetReset?: OffsetResetPolicy;
  /** enable.auto.commit: commit consumed positions at poll every autoCommitIntervalMs, on rebalance and on close. Default true. */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** session.timeout.ms (default 45000) and max.poll.interval.ms as the rebalance timeout (default 300000). */
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  /** partition.assignment.strategy, in order of preference. Default ['range', 'roundrobin']. */
  partitionAssignors?: AssignorName[];
  /** max.poll.records (default 500). */
  maxPollRecords?: number;
  /** max.partition.fetch.bytes (default 1 MiB). */
  maxPartitionFetchBytes?: number;
}

/** Fetch state of one assigned partition. `position` is the next offset to return (null: not yet known). */
interface FetchState {
  topic: string;
  partition: number;
  log: Partition;
  position: number | null;
  /** Log position of the batch holding `cursorOffset`, so sequential reads need no index lookup. */
  cursorOffset: number;
  cursorPos: number;
  /** The last chunk read from the log and the index of the batch at cursorPos in it, so a poll that stops mid-chunk does not read it again. */
  chunk: LogRecord[] | null;
  chunkIndex: number;
  paused: boolean;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * A consumer (Java's KafkaConsumer: subscribe / assign / poll / commit / seek). With `subscribe` it
 * is a member of its group (joins, heartbeats on every poll, rejoins on rebalance, commits with its
 * generation); with `assign` it reads the named partitions itself. Delivery is at least once: the
 * committed offset is the next record to read, so records after the last commit are read again after
 * a restart or a rebalance, and none is skipped.
 */
export class Consumer {
  readonly groupId: string | undefined;
  private readonly clientId: string;
  private readonly reset: OffsetResetPolicy;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly assignors: AssignorName[];
  private readonly maxPollRecords: number;
  private readonly maxFetchBytes: number;
  private mode: 'none' | 'subscribe' | 'assign' = 'none';
  private topics: string[] = [];
  private memberId = '';
  private generation = -1;
  private readonly fetches = new Map<string, FetchState>();
  private order: FetchState[] = [];
  private rotate = 0;
  private lastAutoCommit: number;
  private closed = false;

  constructor(private readonly engine: KafkaEngine, options: ConsumerOptions = {}) {
    options = optionsArg(options, 'consumer(options)');
    if (options.groupId !== undefined && (typeof options.groupId !== 'string' || options.groupId.length === 0 || options.groupId.length > 255)) throw KafkaErrors.invalidGroupId(options.groupId);
    this.groupId = options.groupId;
    this.clientId = options.clientId ?? 'consumer';
    this.reset = options.autoOffsetReset ?? 'latest';
    if (!['earliest', 'latest', 'none'].includes(this.reset)) throw Errors.invalidArg('autoOffsetReset', "'earliest', 'latest' or 'none'");
    this.autoCommit = options.autoCommit ?? true;
    this.autoCommitIntervalMs = positive(options.autoCommitIntervalMs ?? 5000, 'autoCommitIntervalMs', true);
    this.sessionTimeoutMs = positive(options.sessionTimeoutMs ?? 45000, 'sessionTimeoutMs');
    this.rebalanceTimeoutMs = positive(options.rebalanceTimeoutMs ?? 300000, 'rebalanceTimeoutMs');
    this.assignors = options.partitionAssignors ?? ['range', 'roundrobin'];
    if (!Array.isArray(this.assignors) || this.assignors.length === 0 || this.assignors.some((a) => a !== 'range' && a !== 'roundrobin' && a !== 'sticky')) {
      throw Errors.invalidArg('partitionAssignors', "a non-empty list of 'range', 'roundrobin', 'sticky'");
    }
    this.maxPollRecords = positive(options.maxPollRecords ?? 500, 'maxPollRecords');
    this.maxFetchBytes = positive(options.maxPartitionFetchBytes ?? 1024 * 1024, 'maxPartitionFetchBytes');
    this.lastAutoCommit = engine.clock();
  }

  /** Joins the group for these topics (replaces an earlier subscription). Unknown topics are an error unless auto-create is on. */
  subscribe(topics: string | readonly string[]): void {
    this.ensureOpen();
    if (this.groupId === undefined) throw KafkaErrors.invalidGroupId(undefined);
    const list = typeof topics === 'string' ? [topics] : [...listArg(topics, 'subscribe(topics)')];
    if (list.length === 0) throw Errors.invalidArg('subscribe(topics)', 'a non-empty list of topic names');
    for (const t of list) this.engine.topicForRead(t);
    if (this.mode === 'assign') throw KafkaErrors.illegalState('subscribe() after assign(): a consumer uses one or the other');
    this.mode = 'subscribe';
    this.topics = [...new Set(list)].sort();
    if (this.memberId !== '') this.joinGroup();
  }

  /** Reads these partitions without group management (Java's assign). */
  assign(partitions: readonly TopicPartition[]): void {
    this.ensureOpen();
    if (this.mode === 'subscribe') throw KafkaErrors.illegalState('assign() after subscribe(): a consumer uses one or the other');
    const keep = new Map<string, FetchState>();
    for (const tp of listArg(partitions, 'assign(partitions)')) {
      topicPartitionArg(tp, 'assign(partitions[i])');
      const p = this.engine.topicForRead(tp.topic).partition(tp.partition);
      const k = tpKey(tp.topic, tp.partition);
      keep.set(k, this.fetches.get(k) ?? newFetch(tp.topic, tp.partition, p));
    }
    this.mode = 'assign';
    this.setFetches(keep);
  }

  assignment(): TopicPartition[] {
    return this.order.map((f) => ({ topic: f.topic, partition: f.partition }));
  }

  /** Group membership as last seen: member id and generation (-1 while not in a stable generation). */
  membership(): { memberId: string; generation: number } {
    return { memberId: this.memberId, generation: this.generation };
  }

  /**
   * Up to maxRecords (default maxPollRecords) records. Waits up to timeoutMs (real time) for records when none are
   * ready; 0 returns at once. Also heartbeats, follows rebalances and auto-commits.
   */
  async poll(timeoutMs = 0, maxRecords = this.maxPollRecords): Promise<ConsumerRecord[]> {
    this.ensureOpen();
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw Errors.invalidArg('poll(timeoutMs)', 'a non-negative number');
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw Errors.invalidArg('poll(maxRecords)', 'a positive integer');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.engine.changeCount;
      await this.maintain();
      const out: ConsumerRecord[] = [];
      this.fetchInto(out, maxRecords);
      if (out.length > 0) return out;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return out;
      await this.engine.waitForChange(Math.min(left, 100), seen);
    }
  }

  /** Commits offsets (next offset to read) for the group; default: the positions reached by poll. Resolves once durable. */
  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    this.ensureOpen();
    if (this.groupId === undefined) throw KafkaErrors.invalidGroupId(undefined);
    let list: TopicPartitionOffset[];
    if (offsets === undefined) {
      list = [];
      for (const f of this.order) if (f.position !== null) list.push({ topic: f.topic, partition: f.partition, offset: f.position });
    } else {
      list = listArg(offsets, 'commit(offsets)').map((o) => {
        topicPartitionArg(o, 'commit(offsets[i])');
        const p = this.engine.topicForRead(o.topic).partition(o.partition);
        if (typeof o.offset !== 'number' || !Number.isInteger(o.offset) || o.offset < 0 || o.offset > p.nextOffset) {
          throw KafkaErrors.offsetOutOfRange(o.topic, o.partition, o.offset, p.logStartOffset, p.nextOffset);
        }
        return { topic: o.topic, partition: o.partition, offset: o.offset };
      });
    }
    if (this.mode === 'subscribe') this.engine.coordinator.validateCommit(this.groupId, this.memberId, this.generation, list);
    else this.engine.coordinator.validateCommit(this.groupId, '', -1, list);
    await this.engine.offsets.commit(this.groupId, list);
  }

  /** The committed offset (next to read) of a partition for this group, or null. */
  committed(tp: TopicPartition): number | null {
    if (this.groupId === undefined) throw KafkaErrors.invalidGroupId(undefined);
    topicPartitionArg(tp, 'committed(tp)');
    this.engine.topicForRead(tp.topic).partition(tp.partition);
    return this.engine.offsets.get(this.groupId, tp.topic, tp.partition) ?? null;
  }

  /** The offset the next poll returns for an assigned partition. */
  position(tp: TopicPartition): number {
    const f = this.assigned(tp);
    if (f.position === null) this.initPosition(f);
    return f.position!;
  }

  /** Moves an assigned partition's position. Offsets outside [0, log end] are OFFSET_OUT_OF_RANGE. */
  seek(tp: TopicPartitionOffset): void {
    const f = this.assigned(tp);
    const p = f.log;
    if (typeof tp.offset !== 'number' || !Number.isInteger(tp.offset) || tp.offset < 0 || tp.offset > p.nextOffset) {
      throw KafkaErrors.offsetOutOfRange(tp.topic, tp.partition, tp.offset, p.logStartOffset, p.nextOffset);
    }
    this.moveTo(f, tp.offset);
  }

  seekToBeginning(partitions?: readonly TopicPartition[]): void {
    for (const f of partitions === undefined ? this.order : listArg(partitions, 'seekToBeginning(partitions)').map((tp) => this.assigned(tp))) this.moveTo(f, f.log.logStartOffset);
  }

  seekToEnd(partitions?: readonly TopicPartition[]): void {
    for (const f of partitions === undefined ? this.order : listArg(partitions, 'seekToEnd(partitions)').map((tp) => this.assigned(tp))) this.moveTo(f, f.log.nextOffset);
  }

  /** Kafka's offsetsForTimes: per partition the first offset with timestamp >= the given one, or null. */
  offsetsForTimes(query: ReadonlyArray<TopicPartition & { timestamp: number }>): Array<TopicPartition & { offset: number | null }> {
    return listArg(query, 'offsetsForTimes(query)').map((q) => {
      topicPartitionArg(q, 'offsetsForTimes(query[i])');
      if (typeof q.timestamp !== 'number' || !(q.timestamp >= 0)) throw KafkaErrors.invalidTimestamp(q.timestamp);
      const p = this.engine.topicForRead(q.topic).partition(q.partition);
      return { topic: q.topic, partition: q.partition, offset: p.offsetForTimestamp(q.timestamp) };
    });
  }

  /** The partitions of a topic (Java's partitionsFor). */
  partitionsFor(topic: string): TopicPartition[] {
    return this.engine.topicForRead(topic).partitions.map((p) => ({ topic, partition: p.id }));
  }

  beginningOffsets(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    return listArg(partitions, 'beginningOffsets(partitions)').map((tp) => {
      topicPartitionArg(tp, 'beginningOffsets(partitions[i])');
      return { topic: tp.topic, partition: tp.partition, offset: this.engine.topicForRead(tp.topic).partition(tp.partition).logStartOffset };
    });
  }

  endOffsets(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    return listArg(partitions, 'endOffsets(partitions)').map((tp) => {
      topicPartitionArg(tp, 'endOffsets(partitions[i])');
      return { topic: tp.topic, partition: tp.partition, offset: this.engine.topicForRead(tp.topic).partition(tp.partition).nextOffset };
    });
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const f of listArg(partitions, 'pause(partitions)').map((tp) => this.assigned(tp))) f.paused = true;
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const f of listArg(partitions, 'resume(partitions)').map((tp) => this.assigned(tp))) f.paused = false;
  }

  /**
   * The group half of a consumer whose data path runs on a worker thread (DirectConsumer in
   * remote.ts): takes the offsets the worker has returned to its application as this consumer's
   * positions, heartbeats / rejoins / auto-commits as poll does, and returns the assignment with the
   * offset and log position to read each partition from. `generation` changes whenever the worker
   * must drop its readers and start over from the returned positions.
   */
  async syncDirect(progress: readonly TopicPartitionOffset[]): Promise<{ generation: number; changes: SharedArrayBuffer; assignment: Array<TopicPartitionOffset & { position: number; attach: PartitionAttachInfo }> }> {
    this.ensureOpen();
    for (const p of listArg(progress, 'syncDirect(progress)')) {
      if (p === null || typeof p !== 'object') continue;
      const f = this.fetches.get(tpKey(p.topic, p.partition));
      if (f !== undefined && typeof p.offset === 'number' && p.offset >= 0 && p.offset <= f.log.nextOffset) this.moveTo(f, p.offset);
    }
    await this.maintain();
    const assignment: Array<TopicPartitionOffset & { position: number; attach: PartitionAttachInfo }> = [];
    for (const f of this.order) {
      if (f.log.isClosed) continue;
      if (f.position === null) this.initPosition(f);
      const log = f.log;
      const pos = f.position!;
      if (pos < log.logStartOffset || pos > log.nextOffset) this.applyReset(f, () => KafkaErrors.offsetOutOfRange(f.topic, f.partition, pos, log.logStartOffset, log.nextOffset));
      assignment.push({ topic: f.topic, partition: f.partition, offset: f.position!, position: log.positionOf(f.position!), attach: log.attachInfo() });
    }
    return { generation: this.mode === 'subscribe' ? this.generation : 0, changes: this.engine.changes, assignment };
  }

  /** Commits (when auto-commit is on), leaves the group and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.autoCommit && this.groupId !== undefined && this.order.length > 0 && !this.engine.isClosed) await this.commit().catch(() => undefined);
    } finally {
      this.closed = true;
      if (this.mode === 'subscribe' && this.memberId !== '' && !this.engine.isClosed) this.engine.coordinator.leave(this.groupId!, this.memberId);
      this.engine.forgetConsumer(this);
    }
  }

  /**
   * Stops without committing or leaving, as a crashed process would. The group notices when the
   * session times out, or at once with `{ detected: true }` (the engine saw the client die).
   */
  abandon(options: { detected?: boolean } = {}): void {
    options = optionsArg(options, 'abandon(options)');
    if (this.closed) return;
    this.closed = true;
    this.engine.forgetConsumer(this);
    if (options.detected && this.mode === 'subscribe' && this.memberId !== '' && !this.engine.isClosed) this.engine.coordinator.sessionLost(this.groupId!, this.memberId);
  }

  // ---- internals ----

  private async maintain(): Promise<void> {
    if (this.mode === 'subscribe') {
      if (this.generation >= 0) {
        try {
          this.engine.coordinator.heartbeat(this.groupId!, this.memberId, this.generation);
        } catch (e) {
          if (isMqlabError(e, 'REBALANCE_IN_PROGRESS')) {
            // Eager protocol: commit what was consumed, give every partition up, rejoin.
            if (this.autoCommit) await this.commit().catch(() => undefined);
            this.revokeAll();
          } else if (isMqlabError(e, 'ILLEGAL_GENERATION') || isMqlabError(e, 'UNKNOWN_MEMBER_ID')) {
            this.revokeAll();
            if (e.code === 'UNKNOWN_MEMBER_ID') this.memberId = '';
          } else throw e;
        }
      }
      if (this.generation < 0) this.joinGroup();
    }
    const active = this.mode === 'subscribe' ? this.generation >= 0 : this.mode === 'assign';
    if (this.autoCommit && this.groupId !== undefined && active && this.order.length > 0) {
      const now = this.engine.clock();
      if (now - this.lastAutoCommit >= this.autoCommitIntervalMs) {
        this.lastAutoCommit = now;
        await this.commit().catch(() => undefined);
      }
    }
  }

  private joinGroup(): void {
    let r;
    try {
      r = this.engine.coordinator.join(this.groupId!, {
        memberId: this.memberId,
        clientId: this.clientId,
        topics: this.topics,
        assignors: this.assignors,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
      });
    } catch (e) {
      if (!isMqlabError(e, 'UNKNOWN_MEMBER_ID')) throw e;
      this.memberId = '';
      this.revokeAll();
      return this.joinGroup();
    }
    this.memberId = r.memberId;
    if (r.status === 'pending') {
      this.generation = -1;
      return;
    }
    this.generation = r.generation;
    const next = new Map<string, FetchState>();
    for (const tp of r.assignment) {
      const k = tpKey(tp.topic, tp.partition);
      next.set(k, newFetch(tp.topic, tp.partition, this.engine.topicForRead(tp.topic).partition(tp.partition)));
    }
    this.setFetches(next);
  }

  private revokeAll(): void {
    this.generation = -1;
    this.setFetches(new Map());
  }

  private setFetches(next: Map<string, FetchState>): void {
    this.fetches.clear();
    for (const [k, f] of next) this.fetches.set(k, f);
    this.order = [...this.fetches.values()];
    this.rotate = 0;
  }

  private assigned(tp: TopicPartition): FetchState {
    topicPartitionArg(tp, 'partition');
    const f = this.fetches.get(tpKey(tp.topic, tp.partition));
    if (f === undefined) throw KafkaErrors.illegalState(`no current assignment for partition ${describeValue(tp.topic)}-${describeValue(tp.partition)}`);
    return f;
  }

  private moveTo(f: FetchState, offset: number): void {
    f.position = offset;
    f.cursorOffset = -1;
    f.chunk = null;
  }

  /** Committed offset, else the reset policy. */
  private initPosition(f: FetchState): void {
    const c = this.groupId === undefined ? undefined : this.engine.offsets.get(this.groupId, f.topic, f.partition);
    if (c !== undefined) this.moveTo(f, c);
    else this.applyReset(f, () => KafkaErrors.noOffsetForPartition(f.topic, f.partition));
  }

  private applyReset(f: FetchState, error: () => MqlabError): void {
    if (this.reset === 'earliest') this.moveTo(f, f.log.logStartOffset);
    else if (this.reset === 'latest') this.moveTo(f, f.log.nextOffset);
    else throw error();
  }

  /** Decodes records from the assigned partitions into `out`, starting at a rotating partition. */
  fetchInto(out: ConsumerRecord[], limit: number): void {
    const n = this.order.length;
    if (n === 0) return;
    const first = this.rotate++ % n;
    for (let i = 0; i < n && out.length < limit; i++) {
      const f = this.order[(first + i) % n]!;
      if (f.paused || f.log.isClosed) continue;
      if (f.position === null) this.initPosition(f);
      const log = f.log;
      let pos = f.position!;
      if (pos < log.logStartOffset || pos > log.nextOffset) {
        // Below the log start (retention) or past the end: reset by policy, as Kafka does.
        this.applyReset(f, () => KafkaErrors.offsetOutOfRange(f.topic, f.partition, pos, log.logStartOffset, log.nextOffset));
        pos = f.position!;
      }
      if (pos >= log.nextOffset) continue;
      if (f.cursorOffset !== pos) {
        f.cursorPos = log.positionOf(pos);
        f.cursorOffset = pos;
      }
      let done = false;
      while (!done && out.length < limit && pos < log.nextOffset) {
        let records = f.chunk;
        let j = f.chunkIndex;
        if (records === null || j >= records.length || records[j]!.position !== f.cursorPos) {
          records = log.read(f.cursorPos, this.maxFetchBytes).records;
          j = 0;
          if (records.length === 0) break;
        }
        for (; j < records.length; j++) {
          const r = records[j]!;
          pos += decodeBatch(r.payload, f.topic, f.partition, pos, out, limit - out.length);
          if (pos >= batchNextOffset(r.payload)) f.cursorPos = r.next;
          else {
            done = true;
            break;
          }
        }
        f.chunk = j < records.length ? records : null;
        f.chunkIndex = j;
      }
      f.position = pos;
      f.cursorOffset = pos;
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw Errors.closed('consumer');
    if (this.engine.isClosed) throw Errors.closed('Kafka engine');
  }
}

function newFetch(topic: string, partition: number, log: Partition): FetchState {
  return { topic, partition, log, position: null, cursorOffset: -1, cursorPos: 0, chunk: null, chunkIndex: 0, paused: false };
}

function positive(v: unknown, name: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw Errors.invalidArg(`options.${name}`, allowZero ? 'a non-negative integer' : 'a positive integer');
  return v;
}
