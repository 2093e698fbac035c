/**
 * Calibration: two fixed loops measured next to every benchmark run, so the regression gate can
 * compare figures as ratios to what this machine could do *at that moment*.
 *   cpu     a fixed integer-hash loop — CPU-bound work;
 *   memcpy  copying a 32 MiB buffer (larger than the caches) — memory bandwidth.
 * Both are timed in process CPU time, not wall time: on a shared machine a 50 ms loop is often
 * descheduled, and wall time would measure the neighbours rather than the CPU. How much CPU a
 * benchmark run got is measured separately (worker thread CPU time, see run-workload.ts).
 * The speed index is the geometric mean of the two rates per CPU second, in arbitrary but
 * stable units; the gate divides each run by the index (× the run's CPU share) measured with it.
 */
const CPU_ITERATIONS = 2_000_000;
const COPY_BYTES = 32 * 1024 * 1024;
const COPY_ROUNDS = 2;

export interface CalibrationSample {
  cpuOpsPerSec: number;
  memcpyBytesPerSec: number;
  /** sqrt(cpu/1e6 × memcpy/1e9). */
  index: number;
}

export const CALIBRATION_METHOD = `cpu: ${CPU_ITERATIONS} xorshift steps; memcpy: ${COPY_ROUNDS} x 32 MiB Buffer.copy; both per process-CPU second; index = sqrt(cpu/1e6 * memcpy/1e9), best of 3, before every run; workload runs are divided by index x the CPU share their worker threads got`;

/** Results of the loops land here so the JIT cannot drop them as dead code. */
export let sink = 0;
const src = Buffer.alloc(COPY_BYTES, 7);
const dst = Buffer.alloc(COPY_BYTES);

/** CPU seconds used by the process since `from` (µs resolution). */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return Math.max(1e-6, (d.user + d.system) / 1e6);
}

function cpuLoop(): number {
  const t0 = process.cpuUsage();
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < CPU_ITERATIONS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  sink ^= x;
  return CPU_ITERATIONS / cpuSince(t0);
}

function copyLoop(): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < COPY_ROUNDS; i++) {
    src[0] = i;
    src.copy(dst);
  }
  sink ^= dst[0]!;
  return (COPY_BYTES * COPY_ROUNDS) / cpuSince(t0);
}

/** One calibration sample (~30-60 ms): best of three of each loop, interleaved. */
export function calibrate(): CalibrationSample {
  let cpu = 0;
  let mem = 0;
  for (let i = 0; i < 3; i++) {
    cpu = Math.max(cpu, cpuLoop());
    mem = Math.max(mem, copyLoop());
  }
  return { cpuOpsPerSec: cpu, memcpyBytesPerSec: mem, index: Math.sqrt((cpu / 1e6) * (mem / 1e9)) };
}
