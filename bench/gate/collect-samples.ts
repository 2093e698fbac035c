/**
 * Collects real per-run samples of one tracked figure (default: the no-op harness workload),
 * unchanged and with the deliberate slowdown (throttle.ts: exactly 0.8× for 0.2), interleaved
 * run by run in ABBA order so both see the same machine load and neither always runs first,
 * each run with its calibration sample. The gate's false-alarm and detection rates are then
 * estimated offline from these samples (simulate.ts, test/bench/gate-simulation.test.ts).
 *
 *   npx tsx bench/gate/collect-samples.ts [--runs 30] [--duration 1] [--throttle 0.2]
 *        [--workload noop-1-topic-1-partition-100b | --id core.appendBatch.100B] [--out FILE]
 *
 * With --id (a storage-core id, bench/micro/core.ts) each of the --runs rounds measures the id
 * 5 times unchanged and 5 times throttled (ABBA), through the same code as `npm run bench -- core`.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../drivers/load-driver';
import { loadWorkload } from '../drivers/workload-loader';
import { createWorkloadPool, runWorkload } from '../drivers/run-workload';
import { engineDriver, runCalibration } from '../drivers/workload-bench';
import { machineInfo } from '../report/machine';
import { calibrate } from './calibration';
import { throttledSpec } from './throttled-driver';
import { THROTTLE_ENV, THROTTLE_FILTER_ENV } from './throttle';
import * as coreBench from '../micro/core';

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
  /** The deliberate slowdown of the `slowed` set (0.2 = throttled to 0.8×). */
  slowdown: number;
  /** How the slowdown was made: 'throttle' (wall-clock duty cycle, exact) or 'cpu-burn' (older recordings). */
  slowdownMethod?: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  unchanged: SampleSet;
  slowed: SampleSet;
}

export async function collect(runs: number, durationSec: number, slowdown: number, workloadName = 'noop-1-topic-1-partition-100b', log: (s: string) => void = () => undefined): Promise<CollectedSamples> {
  const workload = loadWorkload(join(REPO_ROOT, 'bench', 'workloads', `${workloadName}.yaml`));
  const plain = engineDriver(workload);
  const slowed = throttledSpec(plain, slowdown);
  const out: CollectedSamples = {
    createdAt: new Date().toISOString(),
    machine: machineInfo(),
    workload: workload.name,
    durationSec,
    slowdown,
    slowdownMethod: 'throttle',
    loadAverageBefore: loadavg(),
    loadAverageAfter: [],
    unchanged: { samples: [], calibration: [], index: [], cpuShare: [] },
    slowed: { samples: [], calibration: [], index: [], cpuShare: [] },
  };
  const pool = createWorkloadPool(workload);
  try {
    // One untimed run first: JIT, page cache and the pool's threads warm.
    await runWorkload(plain, workload, { durationSec: Math.min(1, durationSec), warmupSec: 0.2, pool });
    for (let i = 0; i < runs; i++) {
      const pairs = [[out.unchanged, plain], [out.slowed, slowed]] as const;
      for (const [set, spec] of i % 2 === 0 ? pairs : [...pairs].reverse()) {
        const cal = calibrate();
        const r = await runWorkload(spec, workload, { durationSec, warmupSec: durationSec / 4, pool });
        set.samples.push(r.e2eRate);
        set.calibration.push(runCalibration(cal.index, r));
        set.index!.push(cal.index);
        set.cpuShare!.push(r.cpuSec !== undefined ? r.cpuSec / r.wallSec : Number.NaN);
      }
      log(`run ${i + 1}/${runs}: unchanged ${(out.unchanged.samples[i]! / 1e6).toFixed(2)} M/s, slowed ${(out.slowed.samples[i]! / 1e6).toFixed(2)} M/s (raw ratio ${(out.slowed.samples[i]! / out.unchanged.samples[i]!).toFixed(3)})`);
    }
  } finally {
    await pool.destroy();
  }
  out.loadAverageAfter = loadavg();
  return out;
}

/** Real per-run samples of one storage-core id, unchanged and throttled, in ABBA rounds. */
export async function collectCore(id: string, rounds: number, slowdown: number, runsPerRound = 5, log: (s: string) => void = () => undefined): Promise<CollectedSamples> {
  const out: CollectedSamples = {
    createdAt: new Date().toISOString(),
    machine: machineInfo(),
    workload: id,
    durationSec: 0,
    slowdown,
    slowdownMethod: 'throttle',
    loadAverageBefore: loadavg(),
    loadAverageAfter: [],
    unchanged: { samples: [], calibration: [] },
    slowed: { samples: [], calibration: [] },
  };
  const filter = new RegExp(`^${id.replace(/[.]/g, '\\.')}$`);
  const saved = [process.env[THROTTLE_ENV], process.env[THROTTLE_FILTER_ENV]];
  try {
    delete process.env[THROTTLE_FILTER_ENV];
    for (let i = 0; i < rounds; i++) {
      const sides = [[out.unchanged, 0], [out.slowed, slowdown]] as const;
      for (const [set, f] of i % 2 === 0 ? sides : [...sides].reverse()) {
        if (f > 0) process.env[THROTTLE_ENV] = String(f);
        else delete process.env[THROTTLE_ENV];
        const [r] = await coreBench.runCoreBench({ quick: true, filter, runs: runsPerRound });
        if (!r?.samples || !r.calibration) throw new Error(`${id} gave no per-run samples`);
        set.samples.push(...r.samples);
        set.calibration.push(...r.calibration);
        (set.index ??= []).push(...(coreBench.lastMeasured?.calibrationIndex ?? []));
        (set.cpuShare ??= []).push(...(coreBench.lastMeasured?.cpuShare ?? []));
      }
      const n = out.unchanged.samples.length;
      log(`round ${i + 1}/${rounds}: unchanged ${(out.unchanged.samples[n - 1]! / 1e6).toFixed(2)} M/s, slowed ${(out.slowed.samples[n - 1]! / 1e6).toFixed(2)} M/s`);
    }
  } finally {
    if (saved[0] === undefined) delete process.env[THROTTLE_ENV];
    else process.env[THROTTLE_ENV] = saved[0];
    if (saved[1] !== undefined) process.env[THROTTLE_FILTER_ENV] = saved[1];
  }
  out.loadAverageAfter = loadavg();
  return out;
}

if (require.main === module) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const file = arg('--out') ?? 'gate-samples.json';
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const slowdown = Number(arg('--throttle') ?? arg('--slowdown') ?? 0.2);
  const id = arg('--id');
  const job = id ? collectCore(id, Number(arg('--runs') ?? 10), slowdown, 5, log) : collect(Number(arg('--runs') ?? 30), Number(arg('--duration') ?? 1), slowdown, arg('--workload'), log);
  job.then((s) => {
    writeFileSync(file, `${JSON.stringify(s, null, 1)}\n`);
    process.stderr.write(`wrote ${file}\n`);
  });
}
