/**
 * Runs one workload against one driver: the host driver in this thread, one piscina worker per
 * producer and per consumer, rate control in the producers, statistics apart from load control
 * (counters in shared memory sampled once a second, HDR histograms merged at the end).
 *
 * Throughput figures (all after warm-up):
 *   publishRate  messages accepted by the engine per second while producing;
 *   consumeRate  deliveries per second (a message to 2 subscriptions counts twice);
 *   e2eRate      messages fully delivered per second: deliveries / fan-out, over the time from
 *                warm-up end to the last delivery — the headline figure (opsPerSec).
 * Latency is end to end (send stamp → consumer callback), in µs, from intended send times when
 * the rate is fixed (coordinated omission corrected); at rate 0 one message in `sampleEvery`
 * (default 16) is recorded, at a fixed rate every message. At rate 0 producers pause while the
 * backlog (sent, not yet delivered everywhere) exceeds `backlogCap`, so the figure is the
 * sustained end-to-end rate rather than how big a queue the engine can build in a few seconds.
 */
import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { MqlabError } from '../../core/errors';
import { nowNs, type BenchDriver, type DriverSpec, type WorkerAssignment, type Workload } from './driver';
import { loadDriverModule } from './load-driver';
import { waitChange } from './wait-change';
import { CTL_PHASE, CTL_READY, F_COUNTERS, F_START, F_WARM_END, PHASE, newLatencyHistogram, type WorkerOutcome, type WorkerTask } from './workload-worker';

export interface RunWorkloadOptions {
  /** Override the workload's testDurationMinutes (seconds, warm-up included). */
  durationSec?: number;
  /** Override the warm-up (seconds). */
  warmupSec?: number;
  /** Record one message's latency in this many at rate 0 (default 16). */
  sampleEvery?: number;
  /**
   * At rate 0: most messages in flight (sent, not yet delivered everywhere) before producers
   * pause. Default: 64 MiB worth of messages, between 10 k and 500 k; 0 = no limit.
   */
  backlogCap?: number;
  /** Longest wait without progress for consumers to catch up after producers stop (ms, default 5000). */
  drainTimeoutMs?: number;
  /** Called once a second with the rates of that second. */
  onSecond?: (s: SecondSample, elapsedSec: number, totalSec: number) => void;
  /** Abort (Ctrl-C): stop producers and consumers now and return what was measured, partial. */
  signal?: AbortSignal;
  /**
   * A pool from createWorkloadPool(workload) to reuse across runs of the same workload: worker
   * threads then load the harness and driver modules once, not once per run. Left open.
   */
  pool?: Piscina;
}

export interface SecondSample {
  /** Seconds since the producers started. */
  t: number;
  publishRate: number;
  consumeRate: number;
}

export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  p9999Us: number;
  maxUs: number;
}

export interface WorkloadRunResult {
  workload: string;
  driver: string;
  partial: boolean;
  /** Measured window (after warm-up), seconds. */
  measuredSec: number;
  sent: number;
  received: number;
  publishRate: number;
  consumeRate: number;
  e2eRate: number;
  /** Deliveries each message should get (subscriptions × broadcast members). */
  fanout: number;
  series: SecondSample[];
  latency: LatencySummary | undefined;
  /** Merged histogram, compressed base64 (ns). */
  histogram: string | undefined;
  sampleEvery: number;
  /** Wall time from "go" until the consumers stopped, and the CPU time all workers used in it. */
  wallSec: number;
  cpuSec: number | undefined;
  extra: Record<string, number | string | boolean>;
}

const WORKER_FILE = resolve(__dirname, 'workload-worker.ts');
const READY_TIMEOUT_MS = 60_000;

/** Worker threads a workload needs: one per producer and one per consumer. */
export function workerCount(w: Workload): number {
  return w.topics * (w.producersPerTopic + w.subscriptionsPerTopic * w.consumerPerSubscription);
}

/** A pool sized for a workload, reusable across its runs (destroy it when done). */
export function createWorkloadPool(w: Workload): Piscina {
  const n = workerCount(w);
  return new Piscina({ filename: workerFile(), minThreads: n, maxThreads: n, idleTimeout: 60_000 });
}

function defaultBacklogCap(w: Workload): number {
  return Math.max(10_000, Math.min(500_000, Math.floor((64 * 1024 * 1024) / w.messageSize)));
}

function fanoutOf(w: Workload): number {
  return w.subscriptionsPerTopic * (w.messageModel === 'BROADCASTING' ? w.consumerPerSubscription : 1);
}

function workerFile(): string {
  // Under tsx/tap the .ts file runs directly; from a compiled dist/ the .js sits beside this file.
  return __filename.endsWith('.js') ? resolve(__dirname, 'workload-worker.js') : WORKER_FILE;
}

export function summarizeLatency(h: ReturnType<typeof newLatencyHistogram>): LatencySummary | undefined {
  if (h.totalCount === 0) return undefined;
  const us = (ns: number) => Math.round(ns / 100) / 10;
  return {
    count: h.totalCount,
    p50Us: us(h.getValueAtPercentile(50)),
    p99Us: us(h.getValueAtPercentile(99)),
    p999Us: us(h.getValueAtPercentile(99.9)),
    p9999Us: us(h.getValueAtPercentile(99.99)),
    maxUs: us(h.maxValue),
  };
}

export async function runWorkload(spec: DriverSpec, workload: Workload, options: RunWorkloadOptions = {}): Promise<WorkloadRunResult> {
  const durationSec = options.durationSec ?? workload.testDurationMinutes * 60;
  const warmupSec = Math.min(options.warmupSec ?? workload.warmupDurationMinutes * 60, durationSec / 2);
  const sampleEvery = workload.producerRate > 0 ? 1 : Math.max(1, options.sampleEvery ?? 16);
  if (!(durationSec > 0)) throw new MqlabError('ERR_INVALID_ARG', `duration must be above 0 seconds, got ${durationSec}`);

  const assignments: WorkerAssignment[] = [];
  for (let t = 0; t < workload.topics; t++) {
    const topic = `${workload.name.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 180)}-t${t}`;
    for (let s = 0; s < workload.subscriptionsPerTopic; s++) {
      for (let c = 0; c < workload.consumerPerSubscription; c++) assignments.push({ kind: 'consumer', topic, topicIndex: t, index: c, subscription: `sub-${t}-${s}`, subscriptionIndex: s });
    }
    for (let p = 0; p < workload.producersPerTopic; p++) assignments.push({ kind: 'producer', topic, topicIndex: t, index: p });
  }
  const producers = assignments.filter((a) => a.kind === 'producer').length;
  const ratePerProducer = workload.producerRate / producers;
  const quotaPerProducer = workload.messageCount !== undefined ? Math.ceil(workload.messageCount / producers) : undefined;

  const producerSlots = assignments.flatMap((a, k) => (a.kind === 'producer' ? [k] : []));
  const consumerSlots = assignments.flatMap((a, k) => (a.kind === 'consumer' ? [k] : []));
  const backlogCap = options.backlogCap === 0 ? undefined : (options.backlogCap ?? defaultBacklogCap(workload));
  const control = new SharedArrayBuffer(8 * (F_COUNTERS + 2 * assignments.length));
  const ctl = new Int32Array(control, 0, 4);
  const f = new Float64Array(control);
  const counters = () => {
    let sent = 0;
    let received = 0;
    assignments.forEach((a, k) => {
      if (a.kind === 'producer') sent += f[F_COUNTERS + 2 * k]!;
      else received += f[F_COUNTERS + 2 * k]!;
    });
    return { sent, received };
  };

  const host: BenchDriver = loadDriverModule(spec).createDriver(spec.options ?? {});
  if (options.pool && options.pool.options.maxThreads < assignments.length) {
    throw new MqlabError('ERR_INVALID_ARG', `the pool has ${options.pool.options.maxThreads} threads but workload ${workload.name} needs ${assignments.length}`);
  }
  const pool = options.pool ?? new Piscina({ filename: workerFile(), minThreads: assignments.length, maxThreads: assignments.length, idleTimeout: 1000 });
  let partial = false;
  let abortedAt = 0;
  let wakeSampler: (() => void) | undefined;
  const onAbort = () => {
    partial = true;
    abortedAt = nowNs();
    wakeSampler?.();
    Atomics.store(ctl, CTL_PHASE, PHASE.stopConsuming);
    Atomics.notify(ctl, CTL_PHASE);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const series: SecondSample[] = [];
  let tasks: Promise<WorkerOutcome>[] = [];
  try {
    await host.initialize(workload, { role: 'host' });
    for (const topic of new Set(assignments.map((a) => a.topic))) await host.createTopic(topic, workload.partitionsPerTopic);
    const start = (k: number, a: WorkerAssignment, link: unknown, transfer: unknown[] | undefined) => {
      const task: WorkerTask = { spec, workload, assignment: a, link, control, slot: k, rate: ratePerProducer, sampleEvery };
      if (quotaPerProducer !== undefined) task.quota = quotaPerProducer;
      if (a.kind === 'producer' && backlogCap !== undefined) {
        task.backlogCap = backlogCap;
        task.producerSlots = producerSlots;
        task.consumerSlots = consumerSlots;
        task.fanout = fanoutOf(workload);
      }
      return pool.run(task, transfer && transfer.length ? { transferList: transfer as never } : {}) as Promise<WorkerOutcome>;
    };
    // Consumers first (subscribed before anything is sent), then producers; all wait for "go".
    for (let k = 0; k < assignments.length; k++) {
      const a = assignments[k]!;
      const link = host.share ? await host.share(a) : undefined;
      tasks.push(start(k, a, link?.value, link?.transfer));
    }
    tasks = tasks.map((p) => p.catch((e: unknown) => ({ kind: 'consumer', messages: 0, bytes: 0, error: (e as Error).message }) as WorkerOutcome));
    const readyBy = Date.now() + READY_TIMEOUT_MS;
    while (Atomics.load(ctl, CTL_READY) < assignments.length) {
      if (options.signal?.aborted) break;
      if (Date.now() > readyBy) throw new MqlabError('ERR_TIMEOUT', `workload ${workload.name}: workers not ready after ${READY_TIMEOUT_MS / 1000}s`);
      await waitChange(ctl, CTL_READY, Atomics.load(ctl, CTL_READY), 100);
    }

    const t0 = nowNs();
    f[F_START] = t0 + 2e6; // a small head start so every producer begins on the same schedule
    f[F_WARM_END] = f[F_START]! + warmupSec * 1e9;
    if (!options.signal?.aborted) {
      Atomics.store(ctl, CTL_PHASE, PHASE.go);
      Atomics.notify(ctl, CTL_PHASE);
    }
    const endAt = f[F_START]! + durationSec * 1e9;
    let last = counters();
    let lastT = f[F_START]!;
    let atWarm: { sent: number; received: number; t: number } | undefined = warmupSec === 0 ? { ...last, t: f[F_START]! } : undefined;
    let producersDone = false;
    const producerTasks = tasks.filter((_, k) => assignments[k]!.kind === 'producer');
    void Promise.all(producerTasks).then(() => {
      producersDone = true;
    });
    // Sample once a second until the duration passed, the quota was sent, or abort; wake also
    // exactly at the end of warm-up, where the measured window starts.
    while (!options.signal?.aborted && !producersDone && nowNs() < endAt) {
      let wakeAt = Math.min(lastT + 1e9, endAt);
      if (!atWarm) wakeAt = Math.min(wakeAt, f[F_WARM_END]!);
      const wait = Math.max(1, (wakeAt - nowNs()) / 1e6);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, wait);
        wakeSampler = () => {
          clearTimeout(timer);
          r();
        };
      });
      wakeSampler = undefined;
      // Interrupted: the producers stopped at abortedAt; keep the samples taken before it.
      if (options.signal?.aborted) break;
      const now = nowNs();
      const c = counters();
      if (!atWarm && now >= f[F_WARM_END]!) atWarm = { ...c, t: now };
      const dt = (now - lastT) / 1e9;
      if (dt >= 0.95 || (now >= endAt && dt > 0.05)) {
        const sample = { t: Math.round(((now - f[F_START]!) / 1e9) * 10) / 10, publishRate: (c.sent - last.sent) / dt, consumeRate: (c.received - last.received) / dt };
        series.push(sample);
        options.onSecond?.(sample, Math.min(durationSec, (now - f[F_START]!) / 1e9), durationSec);
        last = c;
        lastT = now;
      }
    }
    const stopT = abortedAt > 0 ? abortedAt : nowNs();
    const atStop = counters();
    atWarm ??= { sent: 0, received: 0, t: f[F_START]! };
    Atomics.store(ctl, CTL_PHASE, Math.max(Atomics.load(ctl, CTL_PHASE), PHASE.stopProducing));
    Atomics.notify(ctl, CTL_PHASE);
    await Promise.all(producerTasks);

    // Drain: wait until every sent message reached every subscription, or progress stops.
    const fanout = fanoutOf(workload);
    const drainTimeout = options.drainTimeoutMs ?? 5000;
    let lastProgress = Date.now();
    // A backlog that drains slowly still ends: at most max(30 s, the run's length) of draining.
    const drainUntil = Date.now() + Math.max(30_000, durationSec * 1000);
    let lastReceived = counters().received;
    let lastReceiveT = nowNs();
    while (!options.signal?.aborted) {
      const c = counters();
      if (c.received !== lastReceived) {
        lastReceived = c.received;
        lastReceiveT = nowNs();
        lastProgress = Date.now();
      }
      if (c.received >= c.sent * fanout || Date.now() - lastProgress > drainTimeout || Date.now() > drainUntil) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    Atomics.store(ctl, CTL_PHASE, PHASE.stopConsuming);
    Atomics.notify(ctl, CTL_PHASE);
    const outcomes = await Promise.all(tasks);
    const wallSec = (nowNs() - f[F_START]!) / 1e9;
    const cpuSec = outcomes.every((o) => o.cpuSec !== undefined) ? outcomes.reduce((a, o) => a + o.cpuSec!, 0) : undefined;
    const errors = outcomes.filter((o) => o.error).map((o) => `${o.kind}: ${o.error}`);
    if (errors.length > 0 && !partial) throw new MqlabError('ERR_BENCH', `workload ${workload.name} on ${spec.module}: ${[...new Set(errors)].slice(0, 3).join('; ')}`);

    const merged = newLatencyHistogram();
    for (const o of outcomes) if (o.histogram) merged.add(decodeFromCompressedBase64(o.histogram, 32, false));
    const final = counters();
    const produceSec = Math.max(1e-9, (stopT - atWarm.t) / 1e9);
    const deliverSec = Math.max(1e-9, (Math.max(lastReceiveT, stopT) - atWarm.t) / 1e9);
    const publishRate = (atStop.sent - atWarm.sent) / produceSec;
    const consumeRate = (final.received - atWarm.received) / deliverSec;
    const result: WorkloadRunResult = {
      workload: workload.name,
      driver: spec.module,
      partial,
      measuredSec: produceSec,
      sent: final.sent,
      received: final.received,
      publishRate,
      consumeRate,
      e2eRate: consumeRate / fanout,
      fanout,
      series,
      latency: summarizeLatency(merged),
      histogram: merged.totalCount > 0 ? (await import('hdr-histogram-js')).encodeIntoCompressedBase64(merged) : undefined,
      sampleEvery,
      wallSec,
      cpuSec,
      extra: {},
    };
    if (final.received < final.sent * fanout) result.extra.undelivered = final.sent * fanout - final.received;
    if (host.stats) Object.assign(result.extra, await host.stats());
    return result;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    Atomics.store(ctl, CTL_PHASE, PHASE.stopConsuming);
    Atomics.notify(ctl, CTL_PHASE);
    await Promise.race([Promise.allSettled(tasks), new Promise((r) => setTimeout(r, 5000))]);
    await host.close().catch(() => undefined);
    if (!options.pool) await pool.destroy();
  }
}
