import type { MessagePort } from 'node:worker_threads';
import { connectRpc, type Remote, type RpcClientControls } from '../threads';
import type { KafkaWorkerHost, PackedRecords } from './worker-host';
import type { ConsumerOptions } from './consumer';
import type { CreateTopicOptions } from './engine';
import type { Acks, ConsumerRecord, ProducerRecord, RecordMetadata, TopicPartition, TopicPartitionOffset } from './types';
import type { LogRecord } from '../log/types';
import { FRAME_HEADER_BYTES, frameBytes, framePayloadLength } from '../log/frame-layout';
import { waitForCounter } from './engine';
import { Errors, MqlabError } from '../errors';
import { optionsArg } from './validate';
import { Producer } from './producer';
import { AttachedEngine, AttachedPartition } from './attached';
import { batchNextOffset, decodeBatch, visitBatchAt, type RecordVisitor } from './record-batch';

/**
 * The Kafka engine seen from a worker thread: the same producer / consumer API as in process,
 * every call async, carried over a MessagePort served by `serveKafka` on the engine's thread.
 *
 *   main:   const { port1, port2 } = new MessageChannel(); serveKafka(engine, port1);
 *           new Worker(file, { workerData: { port: port2 }, transferList: [port2] });
 *   worker: const kafka = connectKafka(workerData.port);
 *           await kafka.producer({ acks: 1 }).send({ topic, messages });
 */
export class RemoteKafka {
  private readonly host: Remote<KafkaWorkerHost> & { $rpc: RpcClientControls };
  private readonly attached = new AttachedEngine();

  constructor(port: MessagePort) {
    this.host = connectRpc<KafkaWorkerHost>(port, { timeoutMs: 0 });
  }

  createTopic(name: string, options?: CreateTopicOptions): Promise<void> {
    return this.host.createTopic(name, options);
  }
  describeTopic(name: string) {
    return this.host.describeTopic(name);
  }
  listTopics(): Promise<string[]> {
    return this.host.listTopics();
  }

  producer(options: { acks?: Acks } = {}): RemoteProducer {
    return new RemoteProducer(this.host, optionsArg(options, 'producer(options)').acks ?? 1);
  }

  async consumer(options: ConsumerOptions = {}): Promise<RemoteConsumer> {
    return new RemoteConsumer(this.host, await this.host.openConsumer(optionsArg(options, 'consumer(options)')));
  }

  /**
   * A producer that appends to the partition logs from this thread (DirectProducer): the fast path.
   * Its record timestamps come from this thread's clock (Date.now).
   */
  directProducer(options: { acks?: Acks } = {}): DirectProducer {
    return new DirectProducer(this.host, this.attached, optionsArg(options, 'directProducer(options)').acks ?? 1);
  }

  /** A consumer that reads the partition logs from this thread (DirectConsumer): the fast path. */
  async directConsumer(options: ConsumerOptions & { syncIntervalMs?: number; blockingWaitMs?: number } = {}): Promise<DirectConsumer> {
    const { syncIntervalMs, blockingWaitMs, ...rest } = optionsArg(options, 'directConsumer(options)');
    for (const [name, v] of [['syncIntervalMs', syncIntervalMs], ['blockingWaitMs', blockingWaitMs]] as const) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) throw Errors.invalidArg(`options.${name}`, 'a non-negative integer');
    }
    return new DirectConsumer(this.host, await this.host.openConsumer(rest), syncIntervalMs, blockingWaitMs);
  }

  close(): void {
    this.attached.close();
    this.host.$rpc.close();
  }
}

export class RemoteProducer {
  constructor(private readonly host: Remote<KafkaWorkerHost>, private readonly acks: Acks) {}

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.host.send(record, this.acks);
  }

  /** As send, plus each message's partition in message order. */
  sendWithPartitions(record: ProducerRecord): Promise<{ metadata: RecordMetadata[]; partitions: number[] }> {
    return this.host.sendWithPartitions(record, this.acks);
  }

  /** `count` values of `size` bytes back to back in `data`: one message crosses the threads. */
  sendFixed(topic: string, data: Uint8Array, count: number, size: number, keys?: ReadonlyArray<string | undefined>): Promise<RecordMetadata[]> {
    return this.host.sendFixed(topic, data, count, size, keys, this.acks);
  }
}

export class RemoteConsumer {
  constructor(private readonly host: Remote<KafkaWorkerHost>, readonly handle: number) {}

  subscribe(topics: string | string[]): Promise<void> {
    return this.host.subscribe(this.handle, typeof topics === 'string' ? [topics] : topics);
  }
  assign(partitions: TopicPartition[]): Promise<void> {
    return this.host.assign(this.handle, partitions);
  }
  assignment(): Promise<TopicPartition[]> {
    return this.host.assignment(this.handle);
  }
  /** Records as in process, except that key, value and header values arrive as Uint8Array. */
  poll(timeoutMs = 0, maxRecords?: number): Promise<ConsumerRecord[]> {
    return this.host.poll(this.handle, timeoutMs, maxRecords);
  }
  /** Values and columns only (see PackedRecords): the lean path for high rates. */
  pollPacked(timeoutMs = 0, maxRecords?: number): Promise<PackedRecords> {
    return this.host.pollPacked(this.handle, timeoutMs, maxRecords);
  }
  commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    return this.host.commit(this.handle, offsets);
  }
  committed(tp: TopicPartition): Promise<number | null> {
    return this.host.committed(this.handle, tp);
  }
  position(tp: TopicPartition): Promise<number> {
    return this.host.position(this.handle, tp);
  }
  seek(tpo: TopicPartitionOffset): Promise<void> {
    return this.host.seek(this.handle, tpo);
  }
  offsetsForTimes(query: Array<TopicPartition & { timestamp: number }>) {
    return this.host.offsetsForTimes(this.handle, query);
  }
  close(): Promise<void> {
    return this.host.closeConsumer(this.handle);
  }
}

export function connectKafka(port: MessagePort): RemoteKafka {
  return new RemoteKafka(port);
}

/**
 * A producer on a worker thread that appends to the partition logs itself (attached.ts): no
 * message to the engine's thread per send, only one per topic to attach it. Same semantics as
 * the in-process Producer (it is one, over the attached partitions).
 */
export class DirectProducer {
  private readonly producer: Producer;

  constructor(private readonly host: Remote<KafkaWorkerHost>, private readonly attached: AttachedEngine, private readonly acks: Acks) {
    this.producer = new Producer(attached, { acks });
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (record === null || typeof record !== 'object') throw Errors.invalidArg('send(record)', 'an object { topic, messages }');
    if (!this.attached.has(record.topic)) this.attached.attach(await this.host.attachTopic(record.topic));
    return this.producer.send(record);
  }

  /** `count` values of `size` bytes back to back in `data`. */
  sendFixed(topic: string, data: Uint8Array, count: number, size: number, keys?: ReadonlyArray<string | undefined>): Promise<RecordMetadata[]> {
    // Keyless to an attached topic: appended synchronously, no async frame (the common case at high rates).
    if ((keys === undefined || keys === null) && this.attached.has(topic) && data instanceof Uint8Array && Number.isInteger(count) && Number.isInteger(size) && count >= 0 && size >= 0 && count * size <= data.length) {
      try {
        const { results, durable } = this.producer.sendFixedInternal(topic, data, count, size);
        return durable === null ? Promise.resolve(results) : durable.then(() => results);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.sendFixedSlow(topic, data, count, size, keys);
  }

  /**
   * As sendFixed for a caller that needs no metadata and no promise (a fixed-rate sender): keyless
   * values appended synchronously, to a topic this thread attached before (one sendFixed or send
   * to it attaches it). With acks 0 or 1 the records are in the log when it returns; bad input
   * throws the error sendFixed would reject with. With acks 'all' use sendFixed (it waits for the disk).
   */
  appendFixed(topic: string, data: Uint8Array, count: number, size: number): void {
    if (this.acks === 'all' || this.acks === -1) throw Errors.invalidArg('appendFixed with acks all', "sendFixed (appendFixed does not wait for durability)");
    if (!(data instanceof Uint8Array) || !Number.isInteger(count) || !Number.isInteger(size) || count < 0 || size < 0 || count * size > data.length) {
      throw Errors.invalidArg('appendFixed(data, count, size)', 'count values of size bytes inside data');
    }
    if (!this.attached.has(topic)) throw Errors.invalidArg('appendFixed(topic)', `a topic attached in this thread (send to ${JSON.stringify(String(topic))} once first)`);
    this.producer.sendFixedInternal(topic, data, count, size, this.acks, false);
  }

  private async sendFixedSlow(topic: string, data: Uint8Array, count: number, size: number, keys?: ReadonlyArray<string | undefined>): Promise<RecordMetadata[]> {
    if (keys !== undefined && keys !== null && !Array.isArray(keys)) throw Errors.invalidArg('sendFixed(keys)', 'an array of keys or undefined');
    if (!(data instanceof Uint8Array) || !Number.isInteger(count) || !Number.isInteger(size) || count < 0 || size < 0 || count * size > data.length) {
      throw Errors.invalidArg('sendFixed(data, count, size)', 'count values of size bytes inside data');
    }
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (keys === undefined || keys === null || keys.every((k) => k === undefined)) {
      // Keyless: encoded straight from `data`, no object per message.
      if (!this.attached.has(topic)) this.attached.attach(await this.host.attachTopic(topic));
      const { results, durable } = this.producer.sendFixedInternal(topic, buf, count, size);
      if (durable !== null) await durable;
      return results;
    }
    const messages = new Array<{ key: string | null; value: Buffer }>(count);
    for (let i = 0; i < count; i++) messages[i] = { key: keys?.[i] ?? null, value: buf.subarray(i * size, (i + 1) * size) };
    return this.send({ topic, messages });
  }
}

/** Adds the records of one batch from `fromOffset` on (at most `limit`) to the caller's sink; returns how many. */
type BatchDecoder = (payload: Buffer, topic: string, partition: number, fromOffset: number, limit: number) => number;

interface DirectReader {
  topic: string;
  partition: number;
  log: AttachedPartition;
  offset: number;
  position: number;
  chunk: LogRecord[] | null;
  chunkIndex: number;
  /** The visiting path's frames (log frames copied by readInto, reused: nothing allocated per read). */
  frames: Buffer | null;
  frameOff: number;
  frameEnd: number;
  /** Log position of the frame at frameOff (the frames are stale once the reader's position differs). */
  framePos: number;
}

/** First size of a reader's frame buffer; it grows to fit a larger record. */
const FRAME_BUFFER_BYTES = 64 * 1024;

/**
 * A consumer on a worker thread that reads the partition logs itself. Its group membership lives
 * on the engine's thread (a Consumer there): every `syncIntervalMs` (in the background) it reports
 * the offsets it has returned and gets back the assignment and where to read (Consumer.syncDirect);
 * heartbeats, rebalances and auto-commits happen in that step. Waiting for records is an
 * Atomics.waitAsync on the engine's change counter, so an append on any thread wakes it at once
 * (optionally after a blocking futex wait of up to `blockingWaitMs`, for latency-sensitive readers
 * on a dedicated thread).
 * No seek in this mode (use RemoteConsumer).
 */
export class DirectConsumer {
  private readers: DirectReader[] = [];
  private readonly logs = new Map<string, AttachedPartition>();
  private generation = -2;
  private changes: Int32Array | null = null;
  private lastSync = 0;
  private syncing: Promise<void> | null = null;
  private rotate = 0;
  private closed = false;

  constructor(
    private readonly host: Remote<KafkaWorkerHost>,
    readonly handle: number,
    private readonly syncIntervalMs = 200,
    private readonly blockingWaitMs = 0,
    private readonly maxFetchBytes = 1 << 20,
  ) {}

  async subscribe(topics: string | string[]): Promise<void> {
    await this.host.subscribe(this.handle, typeof topics === 'string' ? [topics] : topics);
    await this.sync();
  }

  async assign(partitions: TopicPartition[]): Promise<void> {
    await this.host.assign(this.handle, partitions);
    await this.sync();
  }

  assignment(): TopicPartition[] {
    return this.readers.map((r) => ({ topic: r.topic, partition: r.partition }));
  }

  /** The offsets returned so far per assigned partition (next offset to read). */
  positions(): TopicPartitionOffset[] {
    return this.readers.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset }));
  }

  private async sync(): Promise<void> {
    const res = await this.host.syncDirect(this.handle, this.positions());
    this.lastSync = Date.now();
    this.changes ??= new Int32Array(res.changes);
    const same =
      res.generation === this.generation &&
      res.assignment.length === this.readers.length &&
      res.assignment.every((a, i) => a.topic === this.readers[i]!.topic && a.partition === this.readers[i]!.partition);
    if (same) return;
    this.generation = res.generation;
    this.readers = res.assignment.map((a) => {
      const k = `${a.topic}\u0000${a.partition}`;
      let log = this.logs.get(k);
      if (log === undefined) this.logs.set(k, (log = new AttachedPartition(a.attach, res.changes)));
      return { topic: a.topic, partition: a.partition, log, offset: a.offset, position: a.position, chunk: null, chunkIndex: 0, frames: null, frameOff: 0, frameEnd: 0, framePos: -1 };
    });
  }

  private syncSoon(force: boolean): Promise<void> | null {
    if (this.syncing === null && (force || Date.now() - this.lastSync >= this.syncIntervalMs)) {
      this.syncing = this.sync().finally(() => {
        this.syncing = null;
      });
    }
    return this.syncing;
  }

  async poll(timeoutMs = 0, maxRecords = 500): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    await this.fetchWaiting(timeoutMs, maxRecords, 'poll', (payload, topic, partition, from, limit) => decodeBatch(payload, topic, partition, from, out, limit));
    return out;
  }

  /**
   * As poll, but instead of returning records calls `visit` for each (its value as a range of the
   * batch's bytes, its offset and timestamp), allocating nothing per record: for readers that only
   * need values, such as benchmarks. The bytes are valid during the call only. Returns how many
   * records were visited (0 when the timeout passed).
   */
  pollEach(timeoutMs: number, maxRecords: number, visit: RecordVisitor): Promise<number> {
    if (typeof visit !== 'function') return Promise.reject(Errors.invalidArg('pollEach(visit)', 'a function'));
    return this.fetchWaiting(timeoutMs, maxRecords, 'pollEach', null, visit);
  }

  /**
   * pollEach without waiting and without a promise: visits what is readable now (at most
   * `maxRecords`) and returns how many. A group sync that is due starts in the background (its
   * reply needs this thread's event loop to turn now and then). Returns 0 until the first sync
   * (subscribe / assign) completed. For a reader on a dedicated thread that waits with
   * `blockForChange`.
   */
  fetchEach(maxRecords: number, visit: RecordVisitor): number {
    if (this.closed) throw new MqlabError('ERR_CLOSED', 'consumer is closed');
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw Errors.invalidArg('fetchEach(maxRecords)', 'a positive integer');
    if (typeof visit !== 'function') throw Errors.invalidArg('fetchEach(visit)', 'a function');
    this.syncSoon(false);
    if (this.generation < 0) return 0;
    try {
      return this.fetchFrames(visit, maxRecords);
    } catch (e) {
      if (!(e instanceof MqlabError && e.code === 'ERR_OUT_OF_RANGE')) throw e;
      void this.syncSoon(true)?.catch(() => undefined);
      return 0;
    }
  }

  /** The engine's change counter now: read it before fetchEach, and pass it to blockForChange if nothing came. */
  changeMark(): number {
    return this.changes === null ? 0 : Atomics.load(this.changes, 0);
  }

  /**
   * Blocks this thread (a futex wait, no event loop) until anything was appended after `mark`
   * was read, or `timeoutMs` passed. Returns whether something changed.
   */
  blockForChange(mark: number, timeoutMs: number): boolean {
    if (this.changes === null) return false;
    return Atomics.wait(this.changes, 0, mark, timeoutMs) !== 'timed-out';
  }

  private async fetchWaiting(timeoutMs: number, maxRecords: number, what: string, decode: BatchDecoder | null, visit?: RecordVisitor): Promise<number> {
    if (this.closed) throw new MqlabError('ERR_CLOSED', 'consumer is closed');
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw Errors.invalidArg(`${what}(timeoutMs)`, 'a non-negative number');
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw Errors.invalidArg(`${what}(maxRecords)`, 'a positive integer');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.syncSoon(false);
      if (s !== null && this.generation < 0) await s;
      const seen = this.changes === null ? 0 : Atomics.load(this.changes, 0);
      let got = 0;
      let stale = false;
      try {
        got = decode !== null ? this.fetchInto(decode, maxRecords) : this.fetchFrames(visit!, maxRecords);
      } catch (e) {
        // A position retention deleted: the engine's side resets it by policy at the next sync.
        if (!(e instanceof MqlabError && e.code === 'ERR_OUT_OF_RANGE')) throw e;
        stale = true;
      }
      if (stale) await this.syncSoon(true);
      if (got > 0) return got;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return 0;
      if (this.blockingWaitMs > 0 && this.changes !== null) {
        // Latency-sensitive readers may first block on the counter (a futex wait): its wake-up is
        // much quicker than the event loop's, at the price of blocking this thread meanwhile.
        Atomics.wait(this.changes, 0, seen, Math.min(this.blockingWaitMs, left));
        if (Atomics.load(this.changes, 0) !== seen) continue;
      }
      const wait = Math.min(left, this.syncIntervalMs);
      if (this.changes === null) await new Promise((r) => setTimeout(r, wait));
      else await waitForCounter(this.changes, seen, wait);
    }
  }

  /** Decodes records from the assigned partitions' logs (partitions in turn); returns how many. */
  private fetchInto(decode: BatchDecoder, limit: number): number {
    const n = this.readers.length;
    if (n === 0) return 0;
    let got = 0;
    const first = this.rotate++ % n;
    for (let i = 0; i < n && got < limit; i++) {
      const r = this.readers[(first + i) % n]!;
      let done = false;
      while (!done && got < limit && r.offset < r.log.nextOffset) {
        let records = r.chunk;
        let j = r.chunkIndex;
        if (records === null || j >= records.length || records[j]!.position !== r.position) {
          records = r.log.read(r.position, this.maxFetchBytes).records;
          j = 0;
          if (records.length === 0) break;
        }
        for (; j < records.length; j++) {
          const rec = records[j]!;
          const added = decode(rec.payload, r.topic, r.partition, r.offset, limit - got);
          got += added;
          r.offset += added;
          if (r.offset >= batchNextOffset(rec.payload)) r.position = rec.next;
          else {
            done = true;
            break;
          }
        }
        r.chunk = j < records.length ? records : null;
        r.chunkIndex = j;
      }
    }
    return got;
  }

  /**
   * fetchInto for visitors, allocating nothing: each reader copies log frames into its own reused
   * buffer (readInto) and visits the batches there. The values are valid during the visit only.
   */
  private fetchFrames(visit: RecordVisitor, limit: number): number {
    const n = this.readers.length;
    if (n === 0) return 0;
    let got = 0;
    const first = this.rotate++ % n;
    for (let i = 0; i < n && got < limit; i++) {
      const r = this.readers[(first + i) % n]!;
      while (got < limit && r.offset < r.log.nextOffset) {
        if (r.framePos !== r.position || r.frameOff >= r.frameEnd) {
          r.frames ??= Buffer.allocUnsafeSlow(FRAME_BUFFER_BYTES);
          let bytes = r.log.readInto(r.position, r.frames, this.maxFetchBytes);
          if (bytes < 0) {
            r.frames = Buffer.allocUnsafeSlow(-bytes);
            bytes = r.log.readInto(r.position, r.frames, this.maxFetchBytes);
          }
          r.frameOff = 0;
          r.frameEnd = Math.max(0, bytes);
          r.framePos = r.position;
          if (bytes <= 0) break;
        }
        const buf = r.frames!;
        const start = r.frameOff + FRAME_HEADER_BYTES;
        const added = visitBatchAt(buf, start, r.offset, limit - got, visit);
        got += added;
        r.offset += added;
        if (r.offset < batchNextOffset(buf, start)) break; // the limit stopped it inside this batch
        const size = frameBytes(framePayloadLength(buf, r.frameOff));
        r.frameOff += size;
        r.position += size;
        r.framePos = r.position;
      }
    }
    return got;
  }

  /** Commits the offsets returned so far (or the given ones) for the group. */
  async commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    await this.syncing;
    await this.sync();
    await this.host.commit(this.handle, offsets ?? this.positions());
  }

  /** Reports the final positions (auto-commit on close, if enabled), leaves the group. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.syncing?.catch(() => undefined);
    await this.host.syncDirect(this.handle, this.positions()).catch(() => undefined);
    await this.host.closeConsumer(this.handle);
    for (const l of this.logs.values()) l.close();
    this.logs.clear();
  }
}
