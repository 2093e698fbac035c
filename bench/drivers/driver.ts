/**
 * The benchmark driver interface: how one workload drives one engine or real broker.
 * Modelled on the OpenMessaging Benchmark driver (initialize, createTopic, createProducer →
 * send(key, payload), createConsumer(topic, subscription, callback(payload, publishTimestamp)),
 * close), adapted to worker threads.
 *
 * Threads. The runner creates drivers from a module path plus serialisable options
 * (`DriverSpec`), never from live objects, so any thread can build one:
 *
 *   main thread                          piscina worker (one per producer / consumer)
 *   ───────────                          ──────────────────────────────────────────────
 *   host = createDriver(options)
 *   host.initialize(workload, {role:'host'})
 *   host.createTopic(topic, partitions)
 *   link = host.share?.(assignment)  ──▶ d = createDriver(options)
 *                                        d.initialize(workload, {role:'worker', link, assignment})
 *                                        d.createConsumer(...) / d.createProducer(topic)
 *                                        ... measured run ...
 *                                        d.close()
 *   host.close()
 *
 * `share` is how an in-process engine that lives in the main thread reaches its workers: it
 * returns a structured-clonable value plus a transfer list (for example a MessagePort served with
 * core/threads `serveRpc`, or SharedArrayBuffers). Drivers for network brokers need no `share`:
 * each worker connects on its own.
 *
 * Payload stamps. The harness owns the first 8 bytes of every payload of ≥ 8 bytes: a float64
 * (little endian) send time in nanoseconds on the process-wide monotonic clock (`nowNs`). At a
 * fixed rate it is the *intended* send time, so latency is corrected for coordinated omission.
 * Drivers carry payload bytes unchanged and need not carry timestamps themselves.
 *
 * Ownership. A payload (or a batch's `data`) belongs to the driver from the send call until the
 * returned promise settles; the harness neither changes nor reuses it before then. A driver that
 * keeps the bytes longer (a queue in memory) must copy them. Buffers handed to a consumer
 * callback may be reused by the driver as soon as the callback returns.
 *
 * Running one: `runWorkload(spec, workload, options)` in bench/drivers/run-workload.ts starts the
 * piscina producer/consumer workers, controls the rate, and returns throughput per second, totals
 * and HDR latency percentiles; engine benchmarks (`kafka.e2e.100B`…) can call it with their driver.
 */

import type { TransferListItem } from 'node:worker_threads';

/** Key distribution, as OpenMessaging Benchmark's keyDistributor. */
export type KeyDistributor = 'NO_KEY' | 'KEY_ROUND_ROBIN' | 'RANDOM_NANO';

/** A workload after loading and validation (see bench/drivers/workload-loader.ts). */
export interface Workload {
  /** File stem or given name, e.g. `kafka-1-topic-16-partitions-1kb`. */
  name: string;
  /** Which model the workload exercises; selects the engine driver. */
  model: 'kafka' | 'rabbitmq' | 'rocketmq' | 'noop';
  topics: number;
  /** Kafka partitions / RabbitMQ queues per topic / RocketMQ queues per topic. */
  partitionsPerTopic: number;
  messageSize: number;
  producersPerTopic: number;
  subscriptionsPerTopic: number;
  consumerPerSubscription: number;
  /** Messages per second over all producers; 0 = as fast as possible. */
  producerRate: number;
  keyDistributor: KeyDistributor;
  /** Run length; `messageCount`, when set, ends the run earlier once that many were sent. */
  testDurationMinutes: number;
  messageCount?: number;
  warmupDurationMinutes: number;
  /** Kafka producer acks. */
  acks?: 0 | 1 | 'all';
  /** RabbitMQ consumer ack mode and prefetch; confirms = publisher confirms. */
  ackMode?: 'auto' | 'manual';
  prefetch?: number;
  confirms?: boolean;
  /** RabbitMQ exchange type used to route to the subscription queues. */
  exchangeType?: 'direct' | 'fanout' | 'topic' | 'headers';
  /** RocketMQ consumer group model. */
  messageModel?: 'CLUSTERING' | 'BROADCASTING';
  /** Free-form description from the file. */
  description?: string;
}

/** Structured-clonable options a driver module is created with. */
export type DriverOptions = Record<string, string | number | boolean | null | undefined>;

/** How to build a driver in any thread: a module path and its options. */
export interface DriverSpec {
  /** Absolute path, or a path relative to the repository root (`bench/drivers/noop-engine.ts`). */
  module: string;
  options?: DriverOptions;
}

/** What a driver module exports. */
export interface DriverModule {
  createDriver(options: DriverOptions): BenchDriver;
}

/** Which producer or consumer a worker runs. */
export interface WorkerAssignment {
  kind: 'producer' | 'consumer';
  topic: string;
  /** Index of the topic (0-based). */
  topicIndex: number;
  /** Producer index within the topic, or consumer index within its subscription. */
  index: number;
  /** Consumers: the subscription name and its index within the topic. */
  subscription?: string;
  subscriptionIndex?: number;
}

/** What `share` returns: handed to the worker's driver as `ctx.link`. */
export interface DriverLink {
  value: unknown;
  transfer?: TransferListItem[];
}

export interface DriverContext {
  role: 'host' | 'worker';
  /** Workers: what the host's `share(assignment)` returned (undefined when it has no `share`). */
  link?: unknown;
  /** Workers: which producer or consumer this driver instance serves. */
  assignment?: WorkerAssignment;
}

/** `count` messages of `size` bytes each, back to back in `data`. */
export interface MessageBatch {
  data: Uint8Array;
  count: number;
  size: number;
  /** Per-message keys (absent = no keys). */
  keys?: ReadonlyArray<string | undefined>;
}

export interface BenchProducer {
  /** Send one message; settles when the engine accepted it under the workload's ack mode. */
  send(key: string | undefined, payload: Uint8Array): Promise<void>;
  /** Optional: many messages in one call, same semantics per message. Used at high rates. */
  sendBatch?(batch: MessageBatch): Promise<void>;
  close(): Promise<void>;
}

/** Given by the harness to createConsumer; a driver calls either method, per message or per batch. */
export interface ConsumerCallback {
  /**
   * One delivered message. `publishTimestampNs` (on the `nowNs` clock) overrides the payload's
   * stamp when the driver has a better one; leave it out normally.
   */
  onMessage(payload: Uint8Array, publishTimestampNs?: number): void;
  /** Many delivered messages at once (fixed-size, contiguous), for drivers that receive batches. */
  onBatch(batch: MessageBatch): void;
}

export interface BenchConsumer {
  close(): Promise<void>;
}

export interface BenchDriver {
  /** Host: create or open the engine (or connect to the broker). Worker: attach through ctx.link. */
  initialize(workload: Workload, ctx: DriverContext): Promise<void>;
  /** Host only, optional: something a worker's driver can attach with (called once per worker). */
  share?(assignment: WorkerAssignment): Promise<DriverLink>;
  /** Host only: create a topic (Kafka topic, RabbitMQ exchange, RocketMQ topic) with N partitions/queues. */
  createTopic(topic: string, partitions: number): Promise<void>;
  createProducer(topic: string): Promise<BenchProducer>;
  /**
   * Subscribe before any producer starts. `subscription` is the Kafka consumer group / RabbitMQ
   * queue / RocketMQ consumer group; consumers sharing it compete, distinct ones each get all.
   */
  createConsumer(topic: string, subscription: string, callback: ConsumerCallback): Promise<BenchConsumer>;
  close(): Promise<void>;
  /** Optional figures for the results (`extra`), e.g. a dispatch lag; read on the host after the run. */
  stats?(): Promise<Record<string, number | string | boolean>>;
}

/** Nanoseconds on the monotonic clock shared by every thread of the process. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** The harness's send stamp in a payload (NaN when the payload is too short to carry one). */
export function readStamp(payload: Uint8Array): number {
  if (payload.length < 8) return Number.NaN;
  return new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
}

/** Write a send stamp into a payload's first 8 bytes (no-op when shorter). */
export function writeStamp(payload: Uint8Array, ns: number): void {
  if (payload.length < 8) return;
  new DataView(payload.buffer, payload.byteOffset, 8).setFloat64(0, ns, true);
}

/** Runtime guard at the plug-in point: a loaded module really is a driver module. */
export function isDriverModule(m: unknown): m is DriverModule {
  return typeof m === 'object' && m !== null && typeof (m as { createDriver?: unknown }).createDriver === 'function';
}

/** Progress of a benchmark function, for the CLI's bar (done of total steps, e.g. ids or seconds). */
export interface BenchProgress {
  /** The id (or phase) being measured now. */
  id?: string;
  done: number;
  total: number;
  message?: string;
}

/**
 * Options of the per-model benchmark functions (`runKafkaBench`, `runRabbitmqBench`,
 * `runRocketmqBench`, `runCoreBench`, `runPeerBench`), all returning `Promise<BenchResult[]>`.
 */
export interface BenchFunctionOptions {
  /** Short runs for `npm run bench -- quick` (the whole quick bench stays under 2 minutes). */
  quick?: boolean;
  /** Only ids matching this. */
  filter?: RegExp;
  /** Repetitions per id (default: the function's own choice, ≥ 3 when not quick). */
  runs?: number;
  onProgress?: (p: BenchProgress) => void;
  /** Set when the user pressed Ctrl-C: stop early and return what was measured. */
  signal?: AbortSignal;
}
