/**
 * Collects real per-run samples of one tracked figure — the no-op harness workload — unchanged
 * and with a deliberate slowdown (driver option `slowdown`), interleaved run by run so both see
 * the same machine load, each run with its calibration sample. The gate's false-alarm and
 * detection rates are then computed from these samples (test/bench/gate.test.ts, docs/bench.md).
 *
 *   npx tsx bench/gate/collect-samples.ts [--runs 30] [--duration 1.5] [--slowdown 0.2] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../drivers/load-driver';
import { loadWorkload } from '../drivers/workload-loader';
import { runWorkload } from '../drivers/run-workload';
import { machineInfo } from '../report/machine';
import { calibrate } from './calibration';
import { runCalibration } from '../drivers/workload-bench';

export interface SampleSet {
  samples: number[];
  /** runCalibration(index, run): what the gate divides by. */
  calibration: number[];
  /** The parts: calibration index and the workers' CPU share (CPU s ÷ wall s) of each run. */
  index?: number[];
  cpuShare?: number[];
}

export interface CollectedSamples {
  createdAt: string;
  machine: ReturnType<typeof machineInfo>;
  workload: string;
  durationSec: number;
  slowdown: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  unchanged: SampleSet;
  slowed: SampleSet;
}

async function collect(runs: number, durationSec: number, slowdown: number): Promise<CollectedSamples> {
  const workload = loadWorkload(join(REPO_ROOT, 'bench', 'workloads', 'noop-1-topic-1-partition-100b.yaml'));
  const out: CollectedSamples = {
    createdAt: new Date().toISOString(),
    machine: machineInfo(),
    workload: workload.name,
    durationSec,
    slowdown,
    loadAverageBefore: loadavg(),
    loadAverageAfter: [],
    unchanged: { samples: [], calibration: [] },
    slowed: { samples: [], calibration: [] },
  };
  for (let i = 0; i < runs; i++) {
    for (const [set, options] of [[out.unchanged, {}], [out.slowed, { slowdown }]] as const) {
      const cal = calibrate();
      const r = await runWorkload({ module: 'bench/drivers/noop-engine.ts', options }, workload, { durationSec, warmupSec: durationSec / 4 });
      set.samples.push(r.e2eRate);
      set.calibration.push(runCalibration(cal.index, r));
      (set.index ??= []).push(cal.index);
      (set.cpuShare ??= []).push(r.cpuSec !== undefined ? r.cpuSec / r.wallSec : Number.NaN);
    }
    process.stderr.write(`run ${i + 1}/${runs}: unchanged ${(out.unchanged.samples[i]! / 1e6).toFixed(1)} M/s, slowed ${(out.slowed.samples[i]! / 1e6).toFixed(1)} M/s\n`);
  }
  out.loadAverageAfter = loadavg();
  return out;
}

if (require.main === module) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const outIdx = process.argv.indexOf('--out');
  const file = outIdx > 0 ? process.argv[outIdx + 1]! : join(REPO_ROOT, 'test', 'fixtures', 'bench', 'noop-samples.json');
  collect(arg('--runs', 30), arg('--duration', 1.5), arg('--slowdown', 0.2)).then((s) => {
    writeFileSync(file, `${JSON.stringify(s, null, 1)}\n`);
    process.stderr.write(`wrote ${file}\n`);
  });
}
