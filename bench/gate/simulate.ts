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
import { Rng } from '../../conformance/suites/framework/rng';

export interface SimulationRates {
  runs: number;
  trials: number;
  falseAlarm: number;
  realSlowdown: number;
  exact20: number;
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
  const rng = new Rng(seed); // seeded: a run is repeatable
  const rnd = (): number => rng.next();
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

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The rates per runs-per-side as a Markdown table. */
export function simulationTable(data: Pick<CollectedSamples, 'unchanged' | 'slowed'>, runsList: number[], trials: number, options: GateOptions = {}): string {
  const lines = ['| runs per side | false alarms (unchanged) | caught: throttled runs (real) | caught: exact 20% (unchanged × 0.8) |', '|---:|---:|---:|---:|'];
  for (const runs of runsList) {
    if (2 * runs > data.unchanged.samples.length || runs > data.slowed.samples.length) continue;
    const r = simulateGate(data, runs, trials, options);
    lines.push(`| ${runs} | ${pct(r.falseAlarm)} | ${pct(r.realSlowdown)} | ${pct(r.exact20)} |`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const file = argv[0] && !argv[0].startsWith('--') ? argv[0] : join(REPO_ROOT, 'test', 'fixtures', 'bench', 'core-appendbatch-samples-load3.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as CollectedSamples;
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const trials = Number(opt('--trials') ?? 2000);
  const runsList = (opt('--runs') ?? '3,5,7,10,15').split(',').map(Number);
  const options: GateOptions = {};
  if (opt('--alpha')) options.alpha = Number(opt('--alpha'));
  if (opt('--threshold')) options.threshold = Number(opt('--threshold'));
  if (opt('--test')) options.test = opt('--test') as GateOptions['test'];
  process.stdout.write(`samples: ${file} (${data.unchanged.samples.length} unchanged + ${data.slowed.samples.length} slowed runs of ${data.workload}, slowdown ${data.slowdown} by ${data.slowdownMethod ?? 'cpu-burn'}, load average ${data.loadAverageBefore.map((x) => x.toFixed(1)).join(' ')} -> ${data.loadAverageAfter.map((x) => x.toFixed(1)).join(' ')})\n`);
  process.stdout.write(`gate: ${options.test ?? 'upper-quantile'} test, alpha ${options.alpha ?? 0.05}, threshold ${options.threshold ?? 0.1}, ${trials} trials\n`);
  process.stdout.write(`${simulationTable(data, runsList, trials, options)}\n`);
}
