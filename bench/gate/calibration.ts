/**
 * Calibration: two fixed loops measured next to every benchmark run, so the regression gate can
 * compare figures as ratios to what this machine could do *at that moment*.
 *   cpu     a fixed integer-hash loop — CPU-bound work;
 *   memcpy  copying an 8 MiB buffer — cache and memory bandwidth.
 * Each loop is short (a fraction of a millisecond) and repeated; the fastest repetition counts. On a
 * shared machine most repetitions run undisturbed, so the best of many measures the CPU's speed
 * rather than how often the neighbours took it away. (Process CPU time would count the runtime's
 * GC threads too.) How much CPU a benchmark run got is measured separately: the worker threads'
 * CPU time, see run-workload.ts.
 * The speed index is the geometric mean of the two rates, in arbitrary but stable units; the gate
 * divides each run by the index (× the run's CPU share) measured with it.
 */
const CPU_ITERATIONS = 250_000;
const COPY_BYTES = 8 * 1024 * 1024;
const REPETITIONS = 25;

export interface CalibrationSample {
  cpuOpsPerSec: number;
  memcpyBytesPerSec: number;
  /** sqrt(cpu/1e6 × memcpy/1e9). */
  index: number;
}

export const CALIBRATION_METHOD = `cpu: ${CPU_ITERATIONS} xorshift steps; memcpy: one 8 MiB Buffer.copy; best of ${REPETITIONS} interleaved repetitions each; index = sqrt(cpu/1e6 * memcpy/1e9), before every run; workload runs are divided by index x the CPU share their worker threads got`;

/** Results of the loops land here so the JIT cannot drop them as dead code. */
export let sink = 0;
let src: Buffer | undefined;
let dst: Buffer | undefined;

function seconds(t0: bigint): number {
  return Math.max(1e-9, Number(process.hrtime.bigint() - t0) / 1e9);
}

function cpuLoop(): number {
  const t0 = process.hrtime.bigint();
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < CPU_ITERATIONS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  sink ^= x;
  return CPU_ITERATIONS / seconds(t0);
}

function copyLoop(): number {
  src ??= Buffer.alloc(COPY_BYTES, 7);
  dst ??= Buffer.alloc(COPY_BYTES);
  const t0 = process.hrtime.bigint();
  src[0] = sink & 0xff;
  src.copy(dst);
  sink ^= dst[0]!;
  return COPY_BYTES / seconds(t0);
}

/** One calibration sample (~40 ms): the best of the repetitions of each loop, interleaved. */
export function calibrate(): CalibrationSample {
  let cpu = 0;
  let mem = 0;
  for (let i = 0; i < REPETITIONS; i++) {
    cpu = Math.max(cpu, cpuLoop());
    mem = Math.max(mem, copyLoop());
  }
  return { cpuOpsPerSec: cpu, memcpyBytesPerSec: mem, index: Math.sqrt((cpu / 1e6) * (mem / 1e9)) };
}
