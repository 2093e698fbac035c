/**
 * What every conformance adapter shares, whatever its model.
 *
 * An adapter is the plug between the harness and one message-queue implementation (a built-in
 * engine, a real broker through its client library, someone's own MQ). The harness never looks
 * inside: it calls the model interface (log-model.ts, queue-model.ts, broker-model.ts), records
 * every call and its outcome in a history, and the checker judges the history.
 *
 * Contract, for all three models:
 *  - Every message carries `id`, a string the harness chooses (unique per run). The adapter must
 *    hand the same `id` back on every delivery of that message (put it in a header, a message
 *    property or the body; how is the adapter's business). The checker identifies messages only
 *    by this id.
 *  - Every method is async (returns a promise). The harness wraps each call in a per-operation
 *    timeout (see `OperationTimeouts`); an adapter must not rely on being awaited forever.
 *  - Expected outcomes are values (a `null` from `get` on an empty queue, a `returned: true`
 *    publish result); failures are thrown errors (an `MqlabError` with a code where possible).
 *  - `info.capabilities` lists what the implementation supports; a check that needs a missing
 *    capability is reported as skipped with the reason, never as passed.
 *  - `info.guarantee` is the delivery guarantee the adapter claims; the verdict allows exactly the
 *    anomalies that guarantee permits (at-most-once may lose, at-least-once may store a producer
 *    retry twice, exactly-once neither). Redeliveries explained by a failure, a nack or a seek
 *    are never anomalies (checker/verdict.ts).
 *
 * A module that provides an adapter exports `createAdapter(options)` (sync or async). The runtime
 * guards in guard.ts (`assertAdapterModule`, `assertAdapter`) check a loaded module and the adapter it
 * returns before the harness trusts either.
 */

export type ModelName = 'kafka' | 'rabbitmq' | 'rocketmq';
export const MODEL_NAMES: readonly ModelName[] = ['kafka', 'rabbitmq', 'rocketmq'];

export type DeliveryGuarantee = 'at-most-once' | 'at-least-once' | 'exactly-once';
export const DELIVERY_GUARANTEES: readonly DeliveryGuarantee[] = ['at-most-once', 'at-least-once', 'exactly-once'];

/** Message body as adapters see it. Strings are UTF-8. */
export type Body = string | Uint8Array;

/**
 * Upper bounds, in milliseconds, the harness puts on each kind of adapter call. A call that does
 * not settle in time is recorded as `info` (outcome unknown) and the check fails with a timeout
 * error naming the operation; nothing waits forever.
 */
export interface OperationTimeouts {
  /** createAdapter, opening producers / consumers / channels. */
  connect: number;
  /** Topic / queue / exchange / binding declarations and deletions. */
  admin: number;
  /** One produce / publish / send call (including waiting for acks or confirms). */
  send: number;
  /** One poll / get / receive call, on top of the wait the call itself asks for. */
  receive: number;
  /** ack / nack / commit / settle / seek. */
  settle: number;
  /** close / crash / restart hooks. */
  lifecycle: number;
}

export const DEFAULT_TIMEOUTS: Readonly<OperationTimeouts> = Object.freeze({
  connect: 10_000,
  admin: 10_000,
  send: 10_000,
  receive: 10_000,
  settle: 10_000,
  lifecycle: 15_000,
});

/**
 * Capabilities shared by all models. Each model adds its own (see `LogCapability`,
 * `QueueCapability`, `BrokerCapability`).
 *
 *  - `consumer-crash`: consumers (or channels) have a `crash()` that drops them without a clean
 *    goodbye (no final commit / ack, no leave-group), as a killed process would.
 *  - `broker-restart`: `adapter.restartBroker()` stops and restarts the broker (or engine) on the
 *    same durable state. Clients opened before may be invalid afterwards; suites reopen them.
 *  - `virtual-time`: `adapter.advanceTime(ms)` moves the implementation's clock (TTL, delays,
 *    retention, session timeouts) without waiting. Without it, time-based checks are skipped or
 *    run only in `--long` mode with real waits.
 *  - `worker-threads`: `adapter.workerSpec()` describes how to re-create an adapter in a worker
 *    thread that talks to the same implementation (same engine, same broker).
 */
export type CommonCapability = 'consumer-crash' | 'broker-restart' | 'virtual-time' | 'worker-threads';

export interface AdapterInfo<M extends ModelName = ModelName, C extends string = string> {
  model: M;
  /** Human-readable: "mqlab built-in kafka engine", "kafkajs 2.2.4 -> kafka://127.0.0.1:9092". */
  name: string;
  guarantee: DeliveryGuarantee;
  capabilities: readonly (C | CommonCapability)[];
  /** Adapter-specific overrides of the harness' per-operation timeouts (e.g. a slow real broker). */
  timeouts?: Partial<OperationTimeouts>;
  /**
   * Quiet time (ms) after which a drain counts a target as read to quiescence, when the harness'
   * default (150 ms quick, 1 s long) is too short: a broker across a socket, on a loaded machine,
   * can pause longer between deliveries (a dead-lettered copy, a redelivery after a requeue) than
   * an in-process engine. The runner uses the larger of this and its default.
   */
  quietMs?: number;
}

/** Options the harness passes to `createAdapter`. Adapters ignore what they do not need. */
export interface AdapterOptions {
  /** Broker address for real-broker adapters: kafka://host:port, amqp://..., rocketmq://host:port. */
  url?: string;
  /** A scratch directory this adapter may use (built-in engines keep their data here). */
  dataDir?: string;
  /**
   * A prefix for every topic / queue / exchange / group name the harness creates in this run, so
   * runs against a shared real broker do not collide. Adapters need not use it: the harness
   * already applies it to the names it passes in.
   */
  namespace?: string;
  /** The run's seed, for adapters that make random choices. */
  seed?: number;
  /** Free-form adapter parameters from the command line (`--adapter-option key=value`). */
  params?: Readonly<Record<string, string>>;
  /**
   * Set inside a worker thread: what `workerSpec()` returned on the main thread (its `options`
   * are merged into these). Adapters use it to connect to the main thread's engine.
   */
  worker?: { data: unknown };
}

/**
 * How to re-create an adapter on a worker thread so it reaches the same implementation. The
 * worker imports `modulePath`, calls its `createAdapter({...options, worker: {data}})`.
 * `transferList` may carry MessagePorts (e.g. an RPC port into the main thread's engine).
 */
export interface WorkerSpec {
  modulePath: string;
  options: AdapterOptions;
  data?: unknown;
  transferList?: readonly import('node:worker_threads').TransferListItem[];
}

/** Methods every adapter has, whatever the model. */
export interface AdapterBase<M extends ModelName, C extends string> {
  readonly info: AdapterInfo<M, C>;
  /** Needs capability `broker-restart`. Resolves when the broker accepts clients again. */
  restartBroker?(): Promise<void>;
  /** Needs capability `virtual-time`. Moves the implementation's clock forward by `ms`. */
  advanceTime?(ms: number): Promise<void>;
  /** Needs capability `worker-threads`. */
  workerSpec?(): Promise<WorkerSpec>;
  /** Releases everything (clients, engines, temp files). Called once, last. */
  close(): Promise<void>;
}

/** The factory every adapter module exports. */
export type CreateAdapter<A> = (options: AdapterOptions) => A | Promise<A>;

/** The shape of a module that provides an adapter. */
export interface AdapterModule<A> {
  createAdapter: CreateAdapter<A>;
}
