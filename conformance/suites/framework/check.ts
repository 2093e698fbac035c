/**
 * A check is one named statement about a model's semantics, run against an adapter.
 *
 * A suite file (conformance/suites/<model>/<area>.ts, or conformance/suites/cross/<area>.ts)
 * exports `checks`, an array made with `defineCheck`. The runner finds suite files by listing
 * those folders, so adding a file is all it takes to add checks.
 *
 * A check declares:
 *  - `requires`: capabilities it needs; if the adapter lacks one the check is reported as
 *    skipped with the reason (never as passed);
 *  - `allow`: anomalies it tolerates on top of what the adapter's guarantee allows;
 *  - `run(ctx)`: drives the adapter through `ctx.adapter` (a recording wrapper: every call is in
 *    the history, bounded by its timeout) and may make direct assertions with `ctx.expect`.
 * After `run`, the runner checks the history; the check passes when `run` completed, no direct
 * assertion failed and the verdict has no disallowed anomaly.
 */
import type { CommonCapability, ModelName, OperationTimeouts } from '../../adapters/common';
import type { BrokerCapability } from '../../adapters/broker-model';
import type { LogCapability } from '../../adapters/log-model';
import type { QueueCapability } from '../../adapters/queue-model';
import type { AnomalyName } from '../../checker/anomalies';
import type { HistoryRecorder } from '../../history/recorder';
import type { RecordingBrokerAdapter } from '../recording/recording-broker';
import type { RecordingLogAdapter } from '../recording/recording-log';
import type { RecordingQueueAdapter } from '../recording/recording-queue';
import type { Rng } from './rng';
import type { WorkerPool } from './workers';

export interface RecordingAdapterFor {
  kafka: RecordingLogAdapter;
  rabbitmq: RecordingQueueAdapter;
  rocketmq: RecordingBrokerAdapter;
}

export interface CapabilityFor {
  kafka: LogCapability | CommonCapability;
  rabbitmq: QueueCapability | CommonCapability;
  rocketmq: BrokerCapability | CommonCapability;
}

/** How big a run is. Checks scale their message counts with these. */
export interface Scale {
  long: boolean;
  /** Messages a typical check sends: small in --quick, large in --long. */
  messages: number;
  /** How long a consumer keeps polling an empty target before calling it drained. */
  idleMs: number;
}

export interface DirectFailure {
  message: string;
  evidence?: unknown;
}

export interface CheckContext<M extends ModelName> {
  model: M;
  adapter: RecordingAdapterFor[M];
  recorder: HistoryRecorder;
  seed: number;
  rng: Rng;
  scale: Scale;
  timeouts: OperationTimeouts;
  /** Capabilities the adapter declared. */
  has(capability: CapabilityFor[M]): boolean;
  /** A resource name unique to this run and check: [A-Za-z0-9_-], valid in all three models. */
  name(base: string): string;
  /** A fresh message id (unique in the run). */
  id(): string;
  /** A direct assertion (something not visible in the history); a false `ok` fails the check. */
  expect(ok: boolean, message: string, evidence?: unknown): void;
  /** Marks `targets` as read to quiescence now: the lost / missing-redelivery analyses judge them. */
  drained(targets: readonly string[]): void;
  /** A line of diagnostics, shown as a TAP comment. */
  log(message: string): void;
  /** Worker threads running adapters re-created from the adapter's workerSpec, when it has one. */
  workers: WorkerPool | null;
  /** Resolves after `ms` of real time (checks use it sparingly; prefer advanceTime). */
  sleep(ms: number): Promise<void>;
}

export interface Check<M extends ModelName = ModelName> {
  /** `area/what`, e.g. `ordering/per-partition-fifo`. Unique per model. */
  name: string;
  model: M;
  /** One sentence: the semantics this check states. */
  description: string;
  requires?: readonly CapabilityFor[M][];
  allow?: readonly AnomalyName[];
  /** Run only in --long mode. */
  longOnly?: boolean;
  /** Bound on the whole check; default 60 s (quick) / 600 s (long). */
  timeoutMs?: number;
  run(ctx: CheckContext<M>): Promise<void>;
}

/** Identity function that gives a check its types. */
export function defineCheck<M extends ModelName>(check: Check<M>): Check<M> {
  return check;
}

export type AnyCheck = Check<'kafka'> | Check<'rabbitmq'> | Check<'rocketmq'>;
