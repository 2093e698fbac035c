import t from 'tap';
import { compareResults, formatGateReport, incompatibility, validateResultsFile } from '../../bench/gate/gate';
import { RESULTS_SCHEMA_VERSION, type BenchResult, type ResultsFile } from '../../bench/report/result';

const MACHINE = { hostname: 'h', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'Test CPU', memBytes: 1 };

function file(results: BenchResult[], over: Partial<ResultsFile> = {}): ResultsFile {
  return { schema: RESULTS_SCHEMA_VERSION, createdAt: '2026-01-01T00:00:00Z', partial: false, machine: MACHINE, versions: { mqlab: '0', node: 'v20', v8: '1' }, results, ...over };
}

function result(id: string, samples: number[], calibration?: number[]): BenchResult {
  const s = [...samples].sort((a, b) => a - b);
  const r: BenchResult = { id, opsPerSec: s[s.length >> 1]!, bytesPerSec: 0, runs: s.length, min: s[0]!, max: s[s.length - 1]!, samples };
  if (calibration) r.calibration = calibration;
  return r;
}

const BASE = [100, 104, 97, 101, 99];

t.test('baselines that cannot be compared get a clear message', async (t) => {
  const cur = file([]);
  t.match(incompatibility(file([], { schema: 99 }), cur), /baseline has results schema 99 but this mqlab writes schema 1/);
  t.match(incompatibility(file([], { machine: { ...MACHINE, cpuModel: 'Other CPU', cpus: 64 } }), cur), /another machine \(64 x Other CPU.*than this run \(2 x Test CPU/);
  t.equal(incompatibility(file([], { machine: { ...MACHINE, cpuModel: 'Other CPU' } }), cur, true), undefined, '--allow-other-machine');
  t.equal(incompatibility(file([], { machine: { ...MACHINE, hostname: 'another-ci-runner' } }), cur), undefined, 'hostname alone does not matter');
  t.throws(() => validateResultsFile({ results: [] }, 'b.json'), /b\.json: not an mqlab results file: no "schema"/);
  t.throws(() => validateResultsFile({ schema: 1, results: [{ opsPerSec: 1 }] }, 'b.json'), /without "id"/);
  t.throws(() => validateResultsFile([], 'b.json'), /no "schema"/);
});

t.test('unchanged passes, a 20% slowdown fails listing the id, a speed-up is reported', async (t) => {
  const baseline = file([result('a.x', BASE), result('b.y', BASE)]);
  const same = compareResults(baseline, file([result('a.x', [101, 98, 103, 100, 99]), result('b.y', BASE)]));
  t.ok(same.ok);
  t.same(same.regressions, []);
  const slow = compareResults(baseline, file([result('a.x', BASE.map((x) => x * 0.8)), result('b.y', BASE)]));
  t.notOk(slow.ok);
  t.same(slow.regressions, ['a.x']);
  const f = slow.findings.find((x) => x.id === 'a.x')!;
  t.ok(Math.abs(f.ratio - 0.8) < 1e-9, `ratio ${f.ratio}`);
  t.ok(f.p! < 0.05);
  t.match(formatGateReport(slow), /gate: FAIL — 1 regression\(s\): a\.x/);
  t.match(formatGateReport(same), /gate: PASS/);
  const fast = compareResults(baseline, file([result('a.x', BASE.map((x) => x * 1.3)), result('b.y', BASE)]));
  t.equal(fast.findings.find((x) => x.id === 'a.x')!.verdict, 'improved');
  t.ok(fast.ok);
});

t.test('a 5% dip is below the threshold; a significant-but-tiny change does not fail', async (t) => {
  const baseline = file([result('a.x', BASE)]);
  const r = compareResults(baseline, file([result('a.x', BASE.map((x) => x * 0.95))]));
  t.ok(r.ok, 'all runs lower (p small) but only 5% slower');
  t.notOk(compareResults(baseline, file([result('a.x', BASE.map((x) => x * 0.95))]), { threshold: 0.03 }).ok, 'with --threshold 0.03 it fails');
});

t.test('calibration: a machine that is slower right now is not a regression', async (t) => {
  const baseline = file([result('a.x', BASE, [200, 200, 200, 200, 200])]);
  const slowerMachine = file([result('a.x', BASE.map((x) => x * 0.7), [140, 140, 140, 140, 140])]);
  t.ok(compareResults(baseline, slowerMachine).ok, '30% slower figure, 30% slower calibration');
  const realRegression = file([result('a.x', BASE.map((x) => x * 0.7), [200, 198, 201, 200, 199])]);
  t.same(compareResults(baseline, realRegression).regressions, ['a.x']);
});

t.test('ids without per-run samples use the calibrated range rule; missing and new ids are listed', async (t) => {
  const noSamples = (id: string, med: number, min: number, max: number, cal?: number[], runs = 5): BenchResult => ({ id, opsPerSec: med, bytesPerSec: 0, runs, min, max, ...(cal ? { calibration: cal } : {}) });
  const baseline = file([noSamples('core.x', 100, 95, 105, [10, 10]), noSamples('gone', 5, 5, 5), result('calibration.index', [1, 1, 1])]);
  const r1 = compareResults(baseline, file([noSamples('core.x', 78, 75, 80, [10, 10]), noSamples('fresh', 1, 1, 1)]));
  t.same(r1.regressions, ['core.x']);
  t.equal(r1.findings.find((f) => f.id === 'core.x')!.method, 'range');
  t.equal(r1.findings.find((f) => f.id === 'gone')!.verdict, 'missing');
  t.equal(r1.findings.find((f) => f.id === 'fresh')!.verdict, 'new');
  t.notOk(r1.findings.some((f) => f.id.startsWith('calibration.')), 'calibration ids are not gated');
  const overlap = compareResults(baseline, file([noSamples('core.x', 88, 80, 96, [10, 10])]));
  t.ok(overlap.ok, 'ranges overlap: not a regression');
  const slowerMachine = compareResults(baseline, file([noSamples('core.x', 78, 75, 80, [7.8, 7.8])]));
  t.ok(slowerMachine.ok, 'calibration around the benchmark explains the drop');
  t.ok(compareResults(baseline, file([noSamples('core.x', 50, 50, 50)]), { filter: /^other\./ }).ok, '--filter limits the gated ids');
  // 3 runs a side: disjoint ranges happen by chance 1 time in C(6,3) = 20, so p = 0.05 is no evidence at alpha 0.05.
  const three = file([noSamples('core.x', 100, 95, 105, [10, 10], 3), result('calibration.index', [1, 1, 1])]);
  const f3 = compareResults(three, file([noSamples('core.x', 78, 75, 80, [10, 10], 3)])).findings.find((f) => f.id === 'core.x')!;
  t.equal(f3.verdict, 'ok');
  t.equal(f3.p, 0.05);
});

t.test("Holm's correction: one p of 0.03 among many ids is no regression; a p far below alpha/k is", async (t) => {
  // Ten ids, each a 15% drop whose own test gives p about 0.03 (5 runs a side, ranges touching).
  const ids = Array.from({ length: 10 }, (_, i) => `core.id${i}`);
  const base = file(ids.map((id) => result(id, [100, 101, 102, 103, 104])));
  const slow = [85, 86, 87, 88, 102];
  const cur = file(ids.map((id, i) => result(id, i === 0 ? slow : [100, 101, 102, 103, 104])));
  const perId = compareResults(base, cur, { familywise: false });
  t.same(perId.regressions, ['core.id0'], 'alpha per id: flagged');
  t.ok(perId.findings[0]!.p! > 0.005, `p = ${perId.findings[0]!.p}`);
  t.ok(compareResults(base, cur).ok, 'Holm over 10 ids: p must be below 0.005');
  const clear = file(ids.map((id, i) => result(id, i === 0 ? [80, 80.5, 81, 81.5, 82, 82.5, 83, 83.5, 84, 84.5] : [100, 101, 102, 103, 104])));
  const base10 = file(ids.map((id, i) => result(id, i === 0 ? [100, 100.5, 101, 101.5, 102, 102.5, 103, 103.5, 104, 104.5] : [100, 101, 102, 103, 104])));
  t.same(compareResults(base10, clear).regressions, ['core.id0'], 'a clear 20% drop with 10 runs survives the correction');
});
