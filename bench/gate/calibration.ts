/**
 * Calibration: two fixed loops measured next to every benchmark run, so the regression gate can
 * compare figures as ratios to what this machine could do *at that moment* (a shared machine's
 * speed drifts with its neighbours' load).
 *   cpu     a fixed integer-hash loop (ops/s) — CPU-bound work;
 *   memcpy  copying a 32 MiB buffer (bytes/s, larger than the caches) — memory bandwidth.
 * The speed index is their geometric mean, in arbitrary but stable units; a figure divided by
 * the index measured beside it is the "normalised" figure the gate tests.
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

export const CALIBRATION_METHOD = `cpu: ${CPU_ITERATIONS} xorshift steps; memcpy: ${COPY_ROUNDS} x 32 MiB Buffer.copy; index = sqrt(cpu/1e6 * memcpy/1e9), best of 3, measured before every run`;

/** Results of the loops land here so the JIT cannot drop them as dead code. */
export let sink = 0;
const src = Buffer.alloc(COPY_BYTES, 7);
const dst = Buffer.alloc(COPY_BYTES);

function cpuLoop(): number {
  const t0 = process.hrtime.bigint();
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < CPU_ITERATIONS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  sink ^= x;
  return CPU_ITERATIONS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function copyLoop(): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < COPY_ROUNDS; i++) {
    src[0] = i;
    src.copy(dst);
  }
  sink ^= dst[0]!;
  return (COPY_BYTES * COPY_ROUNDS) / (Number(process.hrtime.bigint() - t0) / 1e9);
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
