/**
 * Micro-benchmark of the checker on large synthetic histories (self-test/synthetic-history.ts):
 * builds histories of 100 k and 1 M operations and times `findAnomalies` (indexes + every
 * analysis) over several runs, printing median, min and max. The machine may be shared, so
 * each size also times a baseline in the same run — one string-keyed Map set + get per
 * operation, the least any checker indexing a history must do — and prints the ratio.
 *
 *   npx tsx conformance/self-test/checker-bench.ts [ops...] [--runs N]
 */
import { findAnomalies } from '../checker/check-history';
import { messageCount, syntheticHistory } from './synthetic-history';

/** One string-keyed Map set and get per operation: the floor for indexing a history. */
function baseline(n: number): number {
  const t0 = process.hrtime.bigint();
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) m.set(`m${i}`, i);
  let s = 0;
  for (let i = 0; i < n; i++) s += m.get(`m${i}`)!;
  if (s < 0) throw new Error('unreachable');
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function main(argv: string[]): void {
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 5;
  const sizes = argv.filter((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--runs').map(Number);
  for (const size of sizes.length > 0 ? sizes : [100_000, 1_000_000]) {
    const ops = syntheticHistory({ ops: size, dropped: 3 });
    const times: number[] = [];
    let found = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      found = findAnomalies(ops).length;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const base: number[] = [];
    for (let r = 0; r < runs; r++) base.push(baseline(ops.length));
    base.sort((a, b) => a - b);
    const baseMedian = base[Math.floor(base.length / 2)]!;
    console.log(
      `${ops.length} ops (${messageCount(ops)} messages): median ${median.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms over ${runs} runs; ` +
        `${((ops.length / median) * 1000 / 1e6).toFixed(2)} M ops/s; baseline (Map set+get per op) median ${baseMedian.toFixed(0)} ms, ratio ${(median / baseMedian).toFixed(1)}x; ${found} planted-fault cases found`,
    );
  }
}

main(process.argv.slice(2));
