/**
 * Turns workload runs into BenchResults: each workload runs `runs` times, each run preceded by a
 * calibration sample (the gate divides by it), and the runs become one result with the median,
 * the extremes, the per-run samples and the latency of all runs merged.
 *
 * Result id: `workload.<workload name>`; opsPerSec is the end-to-end rate (messages fully
 * delivered per second), publish and consume rates are in `extra`.
 */
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { summarizeRuns, type BenchResult, type SeriesPoint } from '../report/result';
import { calibrate } from '../gate/calibration';
import type { DriverSpec, Workload } from './driver';
import { createWorkloadPool, runWorkload, summarizeLatency, type WorkloadRunResult } from './run-workload';
import { newLatencyHistogram } from './workload-worker';

/** The driver module of each model's built-in engine. */
export const ENGINE_DRIVERS: Record<Workload['model'], string> = {
  noop: 'bench/drivers/noop-engine.ts',
  kafka: 'bench/drivers/kafka-engine.ts',
  rabbitmq: 'bench/drivers/rabbitmq-engine.ts',
  rocketmq: 'bench/drivers/rocketmq-engine.ts',
};

/**
 * The built-in engine driver for a workload. Kafka preallocates one segment per partition, so
 * segments shrink as partitions grow (at most 256 MiB preallocated per topic, 4 MiB minimum):
 * a 100-partition workload would otherwise spend most of its run creating 6 GiB of segments.
 */
export function engineDriver(workload: Workload): DriverSpec {
  const module = ENGINE_DRIVERS[workload.model];
  if (workload.model !== 'kafka') return { module };
  const mib = 1024 * 1024;
  const segmentBytes = Math.max(4 * mib, Math.min(64 * mib, Math.floor(256 / workload.partitionsPerTopic) * mib));
  return { module, options: { segmentBytes } };
}

/**
 * What the machine could give one run: CPU speed (the calibration index) × the CPU share its
 * worker threads got, capped at one core. Below one core the run was short of CPU by that
 * factor (the neighbours had it); above one, more CPU time means threads running in parallel
 * or polling, not more capacity, and counting it made quiet-machine runs noisier (measured:
 * docs/bench.md, "Regression gate").
 */
export function runCalibration(index: number, run: { cpuSec: number | undefined; wallSec: number }): number {
  if (run.cpuSec === undefined || !(run.cpuSec > 0) || !(run.wallSec > 0)) return index;
  return index * Math.min(1, run.cpuSec / run.wallSec);
}

export interface WorkloadBenchOptions {
  runs: number;
  durationSec?: number;
  warmupSec?: number;
  /** Use this driver instead of the model's built-in engine. */
  driver?: DriverSpec;
  signal?: AbortSignal;
  /** Called with the run number and the seconds done within it. */
  onProgress?: (run: number, elapsedSec: number, totalSec: number) => void;
  /** Appended to the id (`workload.<name><suffix>`), e.g. `@my-driver` for a non-default driver. */
  idSuffix?: string;
  /** Each calibration sample taken, for the run-level calibration result. */
  onCalibration?: (index: number, cpu: number, memcpy: number) => void;
  /**
   * A second workload run right after each run of this one, on its own driver (e.g. the no-op
   * engine with the same shape): both then see the same machine, run by run, so their figures can
   * be compared as a ratio. Its result comes back as `outcome.baseline`.
   */
  baseline?: { workload: Workload; driver?: DriverSpec };
}

export interface WorkloadBenchOutcome {
  result: BenchResult;
  series: SeriesPoint[];
  partial: boolean;
  /** The `baseline` workload's own outcome, over the same number of interleaved runs. */
  baseline?: WorkloadBenchOutcome;
}

export function workloadId(w: Workload): string {
  return `workload.${w.name}`;
}

interface RunSet {
  workload: Workload;
  spec: DriverSpec;
  runs: WorkloadRunResult[];
  calibration: number[];
  partial: boolean;
  stopped: boolean;
}

export async function benchWorkload(workload: Workload, options: WorkloadBenchOptions): Promise<WorkloadBenchOutcome | undefined> {
  const sets: RunSet[] = [{ workload, spec: options.driver ?? engineDriver(workload), runs: [], calibration: [], partial: false, stopped: false }];
  const base = options.baseline;
  if (base) sets.push({ workload: base.workload, spec: base.driver ?? engineDriver(base.workload), runs: [], calibration: [], partial: false, stopped: false });
  const pools = sets.map((s) => createWorkloadPool(s.workload));
  try {
    for (let i = 0; i < options.runs; i++) {
      for (const [k, set] of sets.entries()) {
        if (options.signal?.aborted || set.stopped) continue;
        const cal = calibrate();
        if (k === 0) options.onCalibration?.(cal.index, cal.cpuOpsPerSec, cal.memcpyBytesPerSec);
        const r = await runWorkload(set.spec, set.workload, {
          ...(options.durationSec !== undefined ? { durationSec: options.durationSec } : {}),
          ...(options.warmupSec !== undefined ? { warmupSec: options.warmupSec } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(k === 0 ? { onSecond: (_s: unknown, elapsed: number, total: number) => options.onProgress?.(i, elapsed, total) } : {}),
          pool: pools[k]!,
        });
        if (r.partial) {
          set.partial = true;
          if (!(r.e2eRate > 0)) {
            set.stopped = true;
            continue;
          }
        }
        set.runs.push(r);
        set.calibration.push(runCalibration(cal.index, r));
      }
    }
  } finally {
    for (const pool of pools) await pool.destroy();
  }
  const outcome = summarizeSet(sets[0]!, options.idSuffix ?? '');
  if (outcome && sets[1]) {
    const b = summarizeSet(sets[1], '');
    if (b) outcome.baseline = b;
  }
  return outcome;
}

function summarizeSet(set: RunSet, idSuffix: string): WorkloadBenchOutcome | undefined {
  const { workload, spec, runs, calibration, partial } = set;
  if (runs.length === 0) return undefined;
  const rates = runs.map((r) => r.e2eRate);
  const merged = newLatencyHistogram();
  for (const r of runs) if (r.histogram) merged.add(decodeFromCompressedBase64(r.histogram, 32, false));
  const lat = summarizeLatency(merged);
  const sortedIdx = rates.map((_, i) => i).sort((a, b) => rates[a]! - rates[b]!);
  const medianRun = runs[sortedIdx[sortedIdx.length >> 1]!]!;
  const extra: Record<string, number | string | boolean> = {
    model: workload.model,
    driver: spec.module,
    messageSize: workload.messageSize,
    partitions: workload.partitionsPerTopic,
    producerRate: workload.producerRate,
    publishRate: Math.round(median(runs.map((r) => r.publishRate))),
    consumeRate: Math.round(median(runs.map((r) => r.consumeRate))),
    fanout: medianRun.fanout,
    measuredSecPerRun: Math.round(medianRun.measuredSec * 10) / 10,
    latencySampleEvery: medianRun.sampleEvery,
  };
  if (medianRun.cpuSec !== undefined) {
    extra.cpuShare = Math.round((medianRun.cpuSec / medianRun.wallSec) * 100) / 100;
    extra.messagesPerCpuSec = Math.round(medianRun.received / medianRun.fanout / Math.max(1e-3, medianRun.cpuSec));
  }
  for (const [k, v] of Object.entries(medianRun.extra)) extra[k] = v;
  if (partial) extra.partial = true;
  const result = summarizeRuns(workloadId(workload) + idSuffix, rates, workload.messageSize, { extra, samples: rates, calibration });
  if (lat) {
    result.p50Us = lat.p50Us;
    result.p99Us = lat.p99Us;
    result.p999Us = lat.p999Us;
    result.p9999Us = lat.p9999Us;
    result.maxUs = lat.maxUs;
  }
  return { result, series: medianRun.series, partial };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
