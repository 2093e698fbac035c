/** The per-id repeatability report behind `npm run bench -- ... --repeat N`. */
import t from 'tap';
import { maxDeviation, repeatability, repeatabilityMarkdown } from '../../bench/report/repeatability';
import { RESULTS_SCHEMA_VERSION, summarizeRuns, type ResultsFile } from '../../bench/report/result';

function file(rate: number, index: number, load: number): ResultsFile {
  const runs = [rate * 0.95, rate, rate * 1.05];
  return {
    schema: RESULTS_SCHEMA_VERSION, createdAt: '', partial: false,
    machine: { hostname: 'h', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'c', memBytes: 1 }, versions: { mqlab: '0', node: '', v8: '' },
    run: { args: ['quick'], durationSec: 80, calibration: '', loadAverageEnd: [load, 0, 0] },
    results: [
      summarizeRuns('workload.a', runs, 100, { samples: runs, calibration: runs.map(() => index) }),
      summarizeRuns('calibration.index', [index], 0),
    ],
  };
}

t.test('max deviation is from the median of the repetitions', async (t) => {
  t.ok(Math.abs(maxDeviation([100, 110, 90]) - 0.1) < 1e-9);
  t.ok(Number.isNaN(maxDeviation([5])), 'one repetition: nothing to compare');
});

t.test('per id: medians of each invocation, deviation raw and normalised, ok/over', async (t) => {
  // The machine was 30% slower in the third invocation and the calibration saw it.
  const r = repeatability([file(100, 10, 1), file(104, 10, 1.2), file(70, 7, 6)]);
  const a = r.ids.find((x) => x.id === 'workload.a')!;
  t.same(a.medians, [100, 104, 70]);
  t.equal(a.median, 100);
  t.ok(Math.abs(a.maxDeviation - 0.3) < 1e-9, 'raw: 30% off');
  t.equal(a.ok, false);
  t.ok(a.normalisedMaxDeviation! < 0.05, `normalised ${a.normalisedMaxDeviation}`);
  t.ok(Math.abs(a.withinRunSpread - 0.05) < 1e-9);
  const md = repeatabilityMarkdown(r);
  t.match(md, /`workload\.a` \| 100 · 104 · 70(\.0)? \| 100 \| ±30\.0% over/);
  t.match(md, /load average \(1 min\) at the end of each: 1\.0, 1\.2, 6\.0/);
});

t.test('an id missing from one invocation is shown as missing, not as zero', async (t) => {
  const b = file(100, 10, 1);
  b.results = b.results.filter((x) => x.id !== 'workload.a');
  const r = repeatability([file(100, 10, 1), b, file(102, 10, 1)]);
  const a = r.ids.find((x) => x.id === 'workload.a')!;
  t.ok(Number.isNaN(a.medians[1]!));
  t.ok(a.maxDeviation < 0.02);
  t.match(repeatabilityMarkdown(r), /100 · - · 102/);
});
