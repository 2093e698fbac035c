/**
 * The results JSON schema shared by every benchmark in mqlab (core micro-benchmarks, engine
 * workloads, real peers). The ids (`core.append.100B`, `kafka.e2e.100B`, `peer.kafka.*`…) and
 * these field names are a public interface: CI gates and users depend on them.
 *
 *   {"schema": 1, "machine": {...}, "versions": {...}, "partial": false,
 *    "results": [{"id","opsPerSec","bytesPerSec","runs","min","max","p50Us","p99Us","p999Us"}]}
 *
 * opsPerSec is the median over `runs` repetitions; min/max are the extremes of those runs (ops/s),
 * so (max - min) / median is the spread a reader should weigh a figure by.
 */
export const RESULTS_SCHEMA_VERSION = 1;

export interface BenchResult {
  id: string;
  /** Median of the runs, operations (records, messages) per second. */
  opsPerSec: number;
  /** Median of the runs, payload bytes per second. 0 where bytes do not apply. */
  bytesPerSec: number;
  runs: number;
  /** Slowest and fastest run, ops/s. */
  min: number;
  max: number;
  /** End-to-end latency percentiles in microseconds, where the benchmark measures latency. */
  p50Us?: number;
  p99Us?: number;
  p999Us?: number;
  p9999Us?: number;
  maxUs?: number;
  /** Anything else worth keeping (rate, message count, notes such as dispatch lag). */
  extra?: Record<string, number | string | boolean>;
  /** Per-run ops/s, in run order (the regression gate tests these). */
  samples?: number[];
  /** The calibration speed index measured next to each run (same order as samples). */
  calibration?: number[];
}

/** Throughput over time of one run of an id, one point a second (for the report's charts). */
export interface SeriesPoint {
  t: number;
  publishRate: number;
  consumeRate: number;
}

export interface ResultsFile {
  schema: number;
  createdAt: string;
  partial: boolean;
  machine: { hostname: string; platform: string; arch: string; cpus: number; cpuModel: string; memBytes: number };
  versions: { mqlab: string; node: string; v8: string };
  results: BenchResult[];
  /** Per-second throughput of the median run of workload ids. */
  series?: Record<string, SeriesPoint[]>;
  /** Phases that could not run, and why ("kafka: bench/drivers/kafka-bench.ts not found"). */
  notAvailable?: Array<{ phase: string; reason: string }>;
  /** How the run was invoked (CLI arguments), the calibration method, and anything else global. */
  run?: { args: string[]; durationSec: number; calibration: string; loadAverageStart?: number[]; loadAverageEnd?: number[]; throttle?: number };
}

/** Median / min / max of per-run rates, the one place runs become a BenchResult. */
export function summarizeRuns(id: string, opsPerRun: number[], bytesPerOp: number, extra?: Partial<BenchResult>): BenchResult {
  if (opsPerRun.length === 0) throw new Error(`benchmark ${id} produced no runs`);
  const sorted = [...opsPerRun].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    id,
    opsPerSec: median,
    bytesPerSec: median * bytesPerOp,
    runs: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    ...extra,
  };
}
