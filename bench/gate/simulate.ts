/**
 * How often the gate raises a false alarm on unchanged code, and how often it catches a
 * slowdown, estimated from real per-run samples (collect-samples.ts): each trial draws a
 * baseline and a current set of runs (disjoint, without replacement) and runs the real gate.
 *   false alarm: baseline and current both from the unchanged runs;
 *   real slowdown: current from the runs with the deliberate slowdown;
 *   exact 20%: current from unchanged runs (not used by the baseline) with figures × 0.8.
 *
 *   npx tsx bench/gate/simulate.ts [samples.json] [--runs 5] [--trials 2000]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_SCHEMA_VERSION, summarizeRuns, type ResultsFile } from '../report/result';
import { compareResults, type GateOptions } from './gate';
import type { CollectedSamples, SampleSet } from './collect-samples';
import { REPO_ROOT } from '../drivers/load-driver';

export interface SimulationRates {
  runs: number;
  trials: number;
  falseAlarm: number;
  realSlowdown: number;
  exact20: number;
}

/** A small deterministic PRNG, so a simulation is repeatable. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

function draw(set: SampleSet, n: number, rnd: () => number, exclude: Set<number> = new Set()): { idx: number[]; samples: number[]; calibration: number[] } {
  const pool = set.samples.map((_, i) => i).filter((i) => !exclude.has(i));
  const idx: number[] = [];
  for (let k = 0; k < n && pool.length > 0; k++) idx.push(pool.splice(Math.floor(rnd() * pool.length), 1)[0]!);
  return { idx, samples: idx.map((i) => set.samples[i]!), calibration: idx.map((i) => set.calibration[i]!) };
}

function fileOf(samples: number[], calibration: number[]): ResultsFile {
  return {
    schema: RESULTS_SCHEMA_VERSION, createdAt: '', partial: false,
    machine: { hostname: '', platform: '', arch: '', cpus: 0, cpuModel: '', memBytes: 0 }, versions: { mqlab: '', node: '', v8: '' },
    results: [summarizeRuns('tracked', samples, 0, { samples, calibration })],
  };
}

export function simulateGate(data: Pick<CollectedSamples, 'unchanged' | 'slowed'>, runs: number, trials: number, options: GateOptions = {}, seed = 1): SimulationRates {
  const rnd = prng(seed);
  let fa = 0;
  let real = 0;
  let exact = 0;
  const flagged = (b: ReturnType<typeof draw>, c: { samples: number[]; calibration: number[] }) =>
    !compareResults(fileOf(b.samples, b.calibration), fileOf(c.samples, c.calibration), options).ok;
  for (let t = 0; t < trials; t++) {
    const base = draw(data.unchanged, runs, rnd);
    const same = draw(data.unchanged, runs, rnd, new Set(base.idx));
    if (flagged(base, same)) fa++;
    if (flagged(base, draw(data.slowed, runs, rnd))) real++;
    if (flagged(base, { samples: same.samples.map((x) => x * 0.8), calibration: same.calibration })) exact++;
  }
  return { runs, trials, falseAlarm: fa / trials, realSlowdown: real / trials, exact20: exact / trials };
}

if (require.main === module) {
  const file = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : join(REPO_ROOT, 'test', 'fixtures', 'bench', 'noop-samples.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as CollectedSamples;
  const trialsArg = process.argv.indexOf('--trials');
  const trials = trialsArg > 0 ? Number(process.argv[trialsArg + 1]) : 2000;
  process.stdout.write(`samples: ${file} (${data.unchanged.samples.length} unchanged + ${data.slowed.samples.length} slowed runs of ${data.workload}, load average ${data.loadAverageBefore.map((x) => x.toFixed(1)).join(' ')})\n`);
  process.stdout.write('| runs per side | false alarms (unchanged) | caught: real deliberate slowdown | caught: exact 20% |\n|---:|---:|---:|---:|\n');
  for (const runs of [3, 5, 7, 10]) {
    const r = simulateGate(data, runs, trials);
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    process.stdout.write(`| ${runs} | ${pct(r.falseAlarm)} | ${pct(r.realSlowdown)} | ${pct(r.exact20)} |\n`);
  }
}
