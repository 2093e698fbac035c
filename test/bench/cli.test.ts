import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBenchFunction, main, parseArgs, planPhases } from '../../bench/cli';
import { machineInfo } from '../../bench/report/machine';
import { RESULTS_SCHEMA_VERSION, type ResultsFile } from '../../bench/report/result';

const ROOT = resolve(__dirname, '..', '..');

/** Run main() with stdout/stderr captured. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

function resultsFile(samples: number[], over: Partial<ResultsFile> = {}): ResultsFile {
  const s = [...samples].sort((a, b) => a - b);
  return {
    schema: RESULTS_SCHEMA_VERSION, createdAt: new Date().toISOString(), partial: false, machine: machineInfo(), versions: { mqlab: '0', node: process.version, v8: '' },
    results: [{ id: 'workload.x', opsPerSec: s[2]!, bytesPerSec: 0, runs: 5, min: s[0]!, max: s[4]!, samples, calibration: [1, 1, 1, 1, 1] }], ...over,
  };
}

t.test('arguments: selectors, options and clear errors', async (t) => {
  const a = parseArgs(['quick', 'kafka', '--filter', '^kafka\\.', '--runs', '5', '--duration=2', '--json', 'x.json', '--gate', 'b.json', '--threshold', '0.15']);
  t.same([...a.selectors], ['quick', 'kafka']);
  t.equal(a.runs, 5);
  t.equal(a.durationSec, 2);
  t.ok(a.filter!.test('kafka.e2e.100B'));
  t.equal(a.threshold, 0.15);
  t.throws(() => parseArgs(['kafak']), /unknown selector "kafak"/);
  t.throws(() => parseArgs(['--runs', '0']), /--runs must be an integer ≥ 1/);
  t.throws(() => parseArgs(['--filter', '(']), /--filter "\(" is not a valid regular expression/);
  t.throws(() => parseArgs(['--json']), /--json needs a value/);
  t.throws(() => parseArgs(['--frobnicate']), /unknown option --frobnicate/);
  t.equal((await run(['--bogus'])).code, 2);
  t.match((await run(['--help'])).out, /usage: npm run bench/);
});

t.test('phase plan: default covers core and the three models, quick is a subset, --workload alone runs only it', async (t) => {
  const all = planPhases(parseArgs([]));
  t.same(all.map((p) => p.name), ['core', 'kafka', 'rabbitmq', 'rocketmq', 'harness']);
  t.ok(all.find((p) => p.name === 'kafka')!.fn, 'kafka benchmark function');
  t.ok(all.find((p) => p.name === 'kafka')!.workloads.length >= 5, 'kafka workloads');
  const quick = planPhases(parseArgs(['quick']));
  t.same(quick.map((p) => p.workloads.length), [0, 1, 1, 1, 1], 'one workload per model in quick mode');
  const only = planPhases(parseArgs(['--workload', 'bench/workloads/noop-1-topic-1-partition-100b.yaml']));
  t.same(only.map((p) => p.name), ['workloads']);
  t.same(planPhases(parseArgs(['peers'])).map((p) => p.name), ['peers'], 'peers only when asked');
  t.throws(() => planPhases(parseArgs(['--workload', 'nope/kafka-missing.yaml'])), /cannot read workload file/);
});

t.test('a missing or broken benchmark module is one "not available" line, never a crash', async (t) => {
  t.match(loadBenchFunction('bench/no-such-bench.ts', 'runX') as string, /bench\/no-such-bench\.ts not found/);
  t.match(loadBenchFunction('test/fixtures/bench/no-export-bench.ts', 'runKafkaBench') as string, /does not export runKafkaBench\(\)/);
  t.equal(typeof loadBenchFunction('bench/drivers/noop-engine.ts', 'createDriver'), 'function');
});

t.test('a harness run writes JSON, Markdown and HTML with machine and version metadata', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mqlab-bench-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'copy.json');
  const r = await run(['harness', '--filter', 'noop-1-topic-1-partition-100b$', '--duration', '0.5', '--runs', '2', '--plain', '--out', dir, '--json', json]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /workload\.noop-1-topic-1-partition-100b\s+\S+ \S+/);
  const files = readdirSync(dir);
  t.equal(files.filter((f) => f.endsWith('.json')).length, 2, 'timestamped JSON and --json copy');
  t.ok(files.some((f) => f.endsWith('.md')) && files.some((f) => f.endsWith('.html')));
  const data = JSON.parse(readFileSync(json, 'utf8')) as ResultsFile;
  t.equal(data.schema, RESULTS_SCHEMA_VERSION);
  t.equal(data.partial, false);
  t.equal(data.machine.cpus, machineInfo().cpus);
  t.equal(data.versions.node, process.version);
  const w = data.results.find((x) => x.id === 'workload.noop-1-topic-1-partition-100b')!;
  t.ok(w, 'the workload id');
  t.equal(w.runs, 2);
  t.equal(w.samples!.length, 2);
  t.equal(w.calibration!.length, 2);
  for (const k of ['opsPerSec', 'bytesPerSec', 'min', 'max', 'p50Us', 'p99Us', 'p999Us'] as const) t.type(w[k], 'number', k);
  t.ok(data.results.some((x) => x.id === 'calibration.index'), 'calibration ids');
  t.ok(data.series && data.series[w.id]!.length >= 0);
});

t.test('compare and --gate: pass, regression, incomparable baselines', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mqlab-gate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, f: ResultsFile) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(f));
    return p;
  };
  const base = write('base.json', resultsFile([100, 101, 99, 102, 98]));
  const same = write('same.json', resultsFile([99, 100, 102, 101, 98]));
  const slow = write('slow.json', resultsFile([80, 81, 79, 82, 78]));
  const oldSchema = write('old.json', resultsFile([100, 100, 100, 100, 100], { schema: 0 }));
  const other = write('other.json', resultsFile([100, 100, 100, 100, 100], { machine: { ...machineInfo(), cpuModel: 'Some Other CPU' } }));
  t.equal((await run(['compare', base, same])).code, 0);
  const r = await run(['compare', base, slow]);
  t.equal(r.code, 1);
  t.match(r.out, /gate: FAIL — 1 regression\(s\): workload\.x/);
  const s = await run(['compare', oldSchema, same]);
  t.equal(s.code, 2);
  t.match(s.out, /baseline has results schema 0/);
  t.match((await run(['compare', other, same])).out, /another machine/);
  t.equal((await run(['compare', other, same, '--allow-other-machine'])).code, 0);
  // --gate refuses before measuring anything.
  const g = await run(['harness', '--gate', oldSchema, '--out', dir]);
  t.equal(g.code, 2);
  t.match(g.err, /cannot compare: baseline has results schema 0/);
  const bad = write('bad.json', { hello: 1 } as unknown as ResultsFile);
  t.match((await run(['harness', '--gate', bad])).err, /not an mqlab results file: no "schema"/);
  t.match((await run(['harness', '--gate', join(dir, 'missing.json')])).err, /cannot read/);
});

t.test('Ctrl-C stops the workers and still writes what was measured, marked partial', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mqlab-sigint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/cli.ts', 'harness', '--filter', 'noop-1-topic-1-partition-100b$', '--duration', '60', '--runs', '1', '--plain', '--out', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let signalled = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    // Interrupt once the workload is measuring (its first per-second progress line).
    if (!signalled && /run 1\/1 · /.test(out)) {
      signalled = true;
      setTimeout(() => child.kill('SIGINT'), 300);
    }
  });
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  t.ok(signalled, 'the run reached the measuring phase');
  t.equal(code, 130);
  t.match(out, /PARTIAL \(interrupted\)/);
  const json = readdirSync(dir).find((f) => f.endsWith('.json'));
  t.ok(json && existsSync(join(dir, json)));
  const data = JSON.parse(readFileSync(join(dir, json!), 'utf8')) as ResultsFile;
  t.equal(data.partial, true);
  const w = data.results.find((x) => x.id === 'workload.noop-1-topic-1-partition-100b');
  t.ok(w && w.opsPerSec > 0 && w.extra?.partial === true, 'the interrupted run is kept, marked partial', { out, results: data.results.map((x) => [x.id, x.opsPerSec, x.extra]) });
});

t.test('interleaved rounds merge into one result; --repeat and --no-interleave parse', async (t) => {
  const { mergeRounds } = await import('../../bench/cli');
  const one = (rate: number, cal: number, p50: number) => ({
    result: { id: 'workload.x', opsPerSec: rate, bytesPerSec: rate * 100, runs: 1, min: rate, max: rate, p50Us: p50, samples: [rate], calibration: [cal], extra: { model: 'noop' } },
    series: [{ t: 1, publishRate: rate, consumeRate: rate }],
    partial: false,
  });
  const m = mergeRounds([one(30, 3, 7), one(10, 1, 5), one(20, 2, 6)]);
  t.same(m.result.samples, [30, 10, 20], 'samples in round order');
  t.same(m.result.calibration, [3, 1, 2], 'each with its own calibration');
  t.equal(m.result.opsPerSec, 20);
  t.equal(m.result.min, 10);
  t.equal(m.result.max, 30);
  t.equal(m.result.bytesPerSec, 2000);
  t.equal(m.result.p50Us, 6, 'latency of the median round');
  t.equal(m.result.extra?.interleaved, true);
  t.equal(parseArgs(['quick', '--repeat', '3']).repeat, 3);
  t.throws(() => parseArgs(['--repeat', '1']), /--repeat must be/);
  t.equal(parseArgs(['--no-interleave']).interleave, false);
  t.equal(parseArgs(['--no-holm']).familywise, false);
  const r = await run(['quick', '--repeat', '2', '--gate', 'x.json']);
  t.equal(r.code, 2);
  t.match(r.err, /--repeat and --gate do not mix/);
});
