/**
 * The gate's false-alarm and detection rates, from real per-run samples of the no-op harness
 * workload recorded on this (shared, loaded) machine by bench/gate/collect-samples.ts: 30 runs
 * unchanged and 30 runs with the deliberate 20% slowdown (driver option `slowdown: 0.2`),
 * interleaved. docs/bench.md shows the same table (npx tsx bench/gate/simulate.ts).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateGate } from '../../bench/gate/simulate';
import type { CollectedSamples } from '../../bench/gate/collect-samples';

const data = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'bench', 'noop-samples.json'), 'utf8')) as CollectedSamples;

t.test('the fixture holds real interleaved runs', async (t) => {
  t.equal(data.unchanged.samples.length, 30);
  t.equal(data.slowed.samples.length, 30);
  t.equal(data.slowdown, 0.2);
  t.ok(data.unchanged.calibration.every((c) => c > 0), 'a calibration per run');
});

t.test('unchanged code: false alarms stay near the test level (alpha 0.05)', async (t) => {
  for (const runs of [5, 10]) {
    const r = simulateGate(data, runs, 1000);
    t.ok(r.falseAlarm <= 0.08, `${runs} runs per side: ${(r.falseAlarm * 100).toFixed(1)}% false alarms`);
  }
  const strict = simulateGate(data, 10, 1000, { alpha: 0.01 });
  t.ok(strict.falseAlarm <= 0.03, `alpha 0.01: ${(strict.falseAlarm * 100).toFixed(1)}% false alarms`);
});

t.test('the deliberate 20% slowdown is caught', async (t) => {
  const r = simulateGate(data, 10, 1000);
  t.ok(r.realSlowdown >= 0.9, `10 runs per side: caught ${(r.realSlowdown * 100).toFixed(1)}% of the time`);
  const more = simulateGate(data, 10, 1000, {}, 7);
  t.ok(Math.abs(more.realSlowdown - r.realSlowdown) < 0.05, 'stable across simulation seeds');
  // An exact 20% drop of the unchanged runs: caught more often with more runs (power grows).
  const p5 = simulateGate(data, 5, 1000).exact20;
  const p10 = simulateGate(data, 10, 1000).exact20;
  t.ok(p10 > p5, `exact 20%: ${(p5 * 100).toFixed(0)}% with 5 runs, ${(p10 * 100).toFixed(0)}% with 10`);
});
