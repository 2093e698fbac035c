/**
 * The gate's false-alarm and detection rates, estimated offline (bench/gate/simulate.ts): each
 * trial draws a baseline and a current set of runs from recorded real runs and runs the real gate
 * on them. Recordings (bench/gate/collect-samples.ts --id core.appendBatch.100B): 40-60 runs
 * unchanged and as many with the deliberate slowdown (MQLAB_BENCH_THROTTLE=0.2: exactly 0.8×),
 * interleaved in ABBA rounds, one at load average ~3 and one at ~9 on the 2-vCPU machine.
 * Plus a simulated noise model with a fixed seed, so the rates do not rest on one recording.
 * docs/bench.md shows the same tables.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateGate } from '../../bench/gate/simulate';
import type { CollectedSamples, SampleSet } from '../../bench/gate/collect-samples';

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'bench', name), 'utf8')) as CollectedSamples;
const load3 = fixture('core-appendbatch-samples-load3.json');
const load9 = fixture('core-appendbatch-samples-load9.json');
const TRIALS = 300;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

t.test('the recordings hold real interleaved runs, and the throttle made them 0.8x', async (t) => {
  for (const d of [load3, load9]) {
    t.equal(d.slowdown, 0.2);
    t.equal(d.slowdownMethod, 'throttle');
    t.equal(d.unchanged.samples.length, d.slowed.samples.length);
    t.ok(d.unchanged.samples.length >= 40, `${d.unchanged.samples.length} runs a side`);
    t.ok(d.unchanged.calibration.every((c) => c > 0), 'a calibration per run');
  }
  // At load 3 the runs are steady enough to see the throttle's exact factor in the raw medians.
  const r = median(load3.slowed.samples) / median(load3.unchanged.samples);
  t.ok(Math.abs(r - 0.8) < 0.04, `raw median ratio ${r.toFixed(3)} (want 0.80)`);
});

t.test('load ~3: 10 runs a side catch the 20% slowdown >= 95% with <= 5% false alarms', async (t) => {
  const r = simulateGate(load3, 10, TRIALS);
  t.ok(r.falseAlarm <= 0.05, `false alarms ${pct(r.falseAlarm)}`);
  t.ok(r.realSlowdown >= 0.95, `throttled runs caught ${pct(r.realSlowdown)}`);
  t.ok(r.exact20 >= 0.95, `unchanged runs x 0.8 caught ${pct(r.exact20)}`);
});

t.test('the upper-quartile test has more power than Mann-Whitney on the same runs', async (t) => {
  const uq = simulateGate(load3, 7, TRIALS, {}, 5);
  const mw = simulateGate(load3, 7, TRIALS, { test: 'mann-whitney' }, 5);
  t.ok(uq.realSlowdown >= mw.realSlowdown, `7 runs: upper quartile ${pct(uq.realSlowdown)}, Mann-Whitney ${pct(mw.realSlowdown)}`);
  t.ok(uq.falseAlarm <= 0.05 && mw.falseAlarm <= 0.05, `false alarms ${pct(uq.falseAlarm)} / ${pct(mw.falseAlarm)}`);
});

t.test('load ~9: false alarms stay at the test level; detection needs many more runs', async (t) => {
  const r10 = simulateGate(load9, 10, TRIALS);
  const r30 = simulateGate(load9, 30, 150);
  t.ok(r10.falseAlarm <= 0.08 && r30.falseAlarm <= 0.08, `false alarms ${pct(r10.falseAlarm)} (10 runs), ${pct(r30.falseAlarm)} (30 runs)`);
  t.ok(r30.exact20 > r10.exact20, `exact 20% caught ${pct(r10.exact20)} with 10 runs, ${pct(r30.exact20)} with 30`);
});

/** A deterministic noise model of a shared machine: ±3% jitter, and a quarter of runs disturbed. */
function simulated(seed: number, n: number): Pick<CollectedSamples, 'unchanged' | 'slowed'> {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const set = (speed: number): SampleSet => {
    const samples = Array.from({ length: n }, () => speed * (1 - 0.03 * rnd()) * (rnd() < 0.25 ? 0.3 + 0.6 * rnd() : 1));
    return { samples, calibration: samples.map(() => 1) };
  };
  return { unchanged: set(100), slowed: set(80) };
}

t.test('simulated one-sided noise (seed 42): the same rates without a recording', async (t) => {
  const r = simulateGate(simulated(42, 80), 10, TRIALS);
  t.ok(r.falseAlarm <= 0.05, `false alarms ${pct(r.falseAlarm)}`);
  t.ok(r.realSlowdown >= 0.95, `caught ${pct(r.realSlowdown)}`);
});
