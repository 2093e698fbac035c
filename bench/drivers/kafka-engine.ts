/**
 * Benchmark driver for mqlab's in-process Kafka engine (core/kafka).
 *
 * The engine lives in the host thread (the runner's main thread) on a temporary directory. Each
 * producer / consumer worker gets a MessagePort served with `serveKafka` (core/kafka/worker-host.ts)
 * and reaches the engine through `connectKafka`. Default path `direct`: a producer appends each
 * batch of fixed-size payloads to the partition logs itself (DirectProducer); a consumer is a group
 * member (group = subscription) that reads the logs itself and wakes on the engine's change counter
 * (DirectConsumer) — the engine's thread only handles group steps. Path `rpc`: every send and poll
 * is a message to the engine's thread (RemoteProducer.sendFixed, RemoteConsumer.pollPacked).
 *
 * Options: `path` ('direct' | 'rpc'), `timerSlackNs` / `nice` (prctl timer slack / nice value of each worker thread, unset by default), `blockingWaitMs` (a direct consumer blocks on a futex this long before sleeping on the event loop, default 5 as the no-op engine's consumers), `syncIntervalMs` (a direct consumer's group sync with the engine, default 200), `acks` (0 | 1 | 'all', default the workload's or 1),
 * `flush` ('none' | 'async'), `segmentBytes`, `dataDir` (default a fresh temp dir, removed on close).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MqlabError } from '../../core/errors';
import { KafkaEngine } from '../../core/kafka/engine';
import { serveKafka } from '../../core/kafka/worker-host';
import { connectKafka, DirectProducer, type DirectConsumer, type RemoteConsumer, type RemoteKafka } from '../../core/kafka/remote';
import type { Acks } from '../../core/kafka/types';
import { copyBytes } from '../../core/kafka/batch-encoder';
import { setThreadNice, setThreadTimerSlack } from './bare-floor';
import type { RpcServer } from '../../core/threads';
import type { BenchConsumer, BenchDriver, BenchProducer, ConsumerCallback, DriverContext, DriverLink, DriverOptions, MessageBatch, WorkerAssignment, Workload } from './driver';

interface KafkaLink {
  port: MessagePort;
}

function acksOf(options: DriverOptions, workload: Workload): Acks {
  const a = options.acks ?? workload.acks ?? 1;
  if (a === 0 || a === 1 || a === 'all' || a === -1) return a;
  if (a === '0' || a === '1') return Number(a) as 0 | 1;
  throw new MqlabError('ERR_INVALID_ARG', `kafka driver: acks must be 0, 1 or 'all', got ${String(a)}`);
}

/** What a direct producer's sendBatch returns once it appends synchronously. */
const SENT: Promise<void> = Promise.resolve();

/** Longest a busy direct bench consumer goes without letting its event loop turn (ms). */
const EVENT_LOOP_TURN_MS = 10;

/**
 * Reads with DirectConsumer.pollEach (no object per record) and hands each poll's values to the
 * harness as one batch: values of one size are copied back to back into a scratch buffer (what
 * onBatch takes); a value of another size, or a null one, ends the run and goes alone. Nothing is
 * allocated per message, so the consumer thread rarely collects garbage (each young-generation
 * collection stalls it for a fraction of a millisecond or, on a busy machine, several).
 */
class DirectBenchConsumer implements BenchConsumer {
  private running = true;
  private readonly loop: Promise<void>;
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private count = 0;
  private size = -1;
  private readonly visit = (payload: Buffer, start: number, length: number): void => {
    if (length !== this.size || (this.count + 1) * length > this.scratch.length) {
      this.flush();
      if (length < 0) return;
      if (length > this.scratch.length) {
        this.callback.onMessage(payload.subarray(start, start + length));
        return;
      }
      this.size = length;
    }
    copyBytes(payload, start, this.scratch, this.count * length, length);
    this.count++;
  };

  constructor(private readonly consumer: DirectConsumer, private readonly callback: ConsumerCallback, private readonly blockingWaitMs: number) {
    this.loop = this.run();
  }

  /** scratch.subarray(0, n × size) for small n, made once per size (a view per batch was garbage). */
  private views: Buffer[] = [];
  private viewSize = -1;

  private flush(): void {
    if (this.count > 0) {
      const n = this.count;
      if (this.viewSize !== this.size) {
        this.viewSize = this.size;
        this.views = [];
      }
      const data = n < 64 ? (this.views[n] ??= this.scratch.subarray(0, n * this.size)) : this.scratch.subarray(0, n * this.size);
      this.callback.onBatch({ data, count: n, size: this.size });
    }
    this.count = 0;
    this.size = -1;
  }

  private async run(): Promise<void> {
    const c = this.consumer;
    // The first poll waits for the group sync; then a synchronous loop: read what is there,
    // else block on the engine's change counter (a futex: woken by the producer's append) for up
    // to blockingWaitMs, else wait on the event loop. No promise per wake-up.
    await c.pollEach(100, 5000, this.visit);
    this.flush();
    let turnAt = Date.now();
    while (this.running) {
      const mark = c.changeMark();
      const n = c.fetchEach(5000, this.visit);
      if (n > 0) this.flush();
      else if (!c.blockForChange(mark, this.blockingWaitMs)) {
        await c.pollEach(100, 5000, this.visit);
        this.flush();
        turnAt = Date.now();
        continue;
      }
      // Give the event loop a turn every few ms, so the group sync (heartbeat) replies and the
      // harness's stop signal get through.
      const now = Date.now();
      if (now - turnAt >= EVENT_LOOP_TURN_MS) {
        turnAt = now;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop.catch(() => undefined);
    await this.consumer.close().catch(() => undefined);
  }
}

class RpcBenchConsumer implements BenchConsumer {
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly consumer: RemoteConsumer, private readonly callback: ConsumerCallback) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const r = await this.consumer.pollPacked(100, 5000);
      if (!this.running && r.count === 0) break;
      if (r.count === 0) continue;
      const size = r.valueLengths[0]!;
      let uniform = size >= 0;
      for (let i = 1; i < r.count && uniform; i++) uniform = r.valueLengths[i] === size;
      if (uniform) this.callback.onBatch({ data: r.values, count: r.count, size });
      else {
        let pos = 0;
        for (let i = 0; i < r.count; i++) {
          const n = Math.max(0, r.valueLengths[i]!);
          this.callback.onMessage(r.values.subarray(pos, pos + n));
          pos += n;
        }
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop.catch(() => undefined);
    await this.consumer.close().catch(() => undefined);
  }
}

export class KafkaEngineDriver implements BenchDriver {
  private engine: KafkaEngine | undefined;
  private remote: RemoteKafka | undefined;
  private workload: Workload | undefined;
  private dataDir: string | undefined;
  private ownsDir = false;
  private readonly servers: RpcServer[] = [];
  private readonly open = new Set<{ close(): Promise<void> }>();

  constructor(private readonly options: DriverOptions) {}

  async initialize(workload: Workload, ctx: DriverContext): Promise<void> {
    this.workload = workload;
    if (ctx.role === 'host') {
      const given = typeof this.options.dataDir === 'string' ? this.options.dataDir : undefined;
      this.ownsDir = given === undefined;
      this.dataDir = given ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-kafka-bench-'));
      const flush = this.options.flush === 'async' ? 'async' : 'none';
      const segmentBytes = typeof this.options.segmentBytes === 'number' ? this.options.segmentBytes : 64 * 1024 * 1024;
      this.engine = KafkaEngine.open(this.dataDir, { flush, segmentBytes, retentionCheckIntervalMs: 0 });
    } else {
      // Scheduling knobs for this worker thread (off by default; see docs/kafka.md for what they did).
      if (typeof this.options.timerSlackNs === 'number' && process.platform === 'linux') setThreadTimerSlack(this.options.timerSlackNs);
      if (typeof this.options.nice === 'number') setThreadNice(this.options.nice);
      const link = ctx.link as KafkaLink | undefined;
      if (!link || typeof link !== 'object' || !link.port) throw new MqlabError('ERR_INVALID_ARG', 'kafka driver in a worker needs the link from the host driver');
      this.remote = connectKafka(link.port);
    }
  }

  async share(_assignment: WorkerAssignment): Promise<DriverLink> {
    if (!this.engine) throw new MqlabError('ERR_CLOSED', 'kafka driver: share() is for the host, after initialize');
    const { port1, port2 } = new MessageChannel();
    this.servers.push(serveKafka(this.engine, port1));
    return { value: { port: port2 } satisfies KafkaLink, transfer: [port2] };
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    if (!this.engine) throw new MqlabError('ERR_CLOSED', 'kafka driver: createTopic() is for the host');
    if (!this.engine.hasTopic(topic)) this.engine.createTopic(topic, { numPartitions: partitions });
  }

  private get direct(): boolean {
    return this.options.path !== 'rpc';
  }

  async createProducer(topic: string): Promise<BenchProducer> {
    const remote = this.needRemote();
    const acks = acksOf(this.options, this.workload!);
    const producer = this.direct ? remote.directProducer({ acks }) : remote.producer({ acks });
    // Direct, keyless, acks 0 / 1: appendFixed once the topic is attached (by the first send),
    // with one shared settled promise: no metadata objects and no promise per batch.
    const direct = producer instanceof DirectProducer && acks !== 'all' && acks !== -1 ? producer : undefined;
    let attached = false;
    const p: BenchProducer = {
      // The metadata is not needed: the send's promise itself (no async wrapper, one promise less per batch).
      send(key: string | undefined, payload: Uint8Array): Promise<void> {
        return producer.sendFixed(topic, payload, 1, payload.length, key === undefined ? undefined : [key]) as Promise<unknown> as Promise<void>;
      },
      sendBatch(batch: MessageBatch): Promise<void> {
        if (direct !== undefined && attached && batch.keys === undefined) {
          try {
            direct.appendFixed(topic, batch.data, batch.count, batch.size);
            return SENT;
          } catch (e) {
            return Promise.reject(e);
          }
        }
        const sending = producer.sendFixed(topic, batch.data, batch.count, batch.size, batch.keys) as Promise<unknown> as Promise<void>;
        if (direct !== undefined && !attached) sending.then(() => (attached = true), () => undefined);
        return sending;
      },
      async close(): Promise<void> {},
    };
    return p;
  }

  async createConsumer(topic: string, subscription: string, callback: ConsumerCallback): Promise<BenchConsumer> {
    const remote = this.needRemote();
    if (this.direct) {
      const blockingWaitMs = typeof this.options.blockingWaitMs === 'number' ? this.options.blockingWaitMs : 5;
      const syncIntervalMs = typeof this.options.syncIntervalMs === 'number' ? this.options.syncIntervalMs : 200;
      const consumer = await remote.directConsumer({ groupId: subscription, autoOffsetReset: 'earliest', syncIntervalMs, blockingWaitMs });
      await consumer.subscribe([topic]);
      const c = new DirectBenchConsumer(consumer, callback, Math.max(1, blockingWaitMs));
      this.open.add(c);
      return c;
    }
    const consumer = await remote.consumer({ groupId: subscription, autoOffsetReset: 'earliest', maxPollRecords: 5000 });
    await consumer.subscribe([topic]);
    // Join the group now (the first poll joins), so the member exists before producers start.
    const first = await consumer.pollPacked(0, 1);
    if (first.count > 0) callback.onMessage(first.values);
    const c = new RpcBenchConsumer(consumer, callback);
    this.open.add(c);
    return c;
  }

  private needRemote(): RemoteKafka {
    if (!this.remote || !this.workload) throw new MqlabError('ERR_INVALID_ARG', 'kafka driver: producers and consumers are created in workers');
    return this.remote;
  }

  async close(): Promise<void> {
    for (const o of this.open) await o.close();
    this.open.clear();
    this.remote?.close();
    this.remote = undefined;
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    if (this.engine) {
      this.engine.close();
      this.engine = undefined;
      if (this.ownsDir && this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

export function createDriver(options: DriverOptions): BenchDriver {
  return new KafkaEngineDriver(options);
}
