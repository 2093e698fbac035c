/**
 * `npm run bench [-- selectors] [options]`: the benchmark command of mqlab.
 *
 * Selectors (any number; none = core + kafka + rabbitmq + rocketmq + harness):
 *   quick      short runs of the same set (under two minutes)
 *   core       storage-core micro-benchmarks (bench/micro/core.ts)
 *   kafka | rabbitmq | rocketmq   the model's benchmark ids and its default workloads
 *   harness    the no-op engine workload (harness overhead)
 *   workloads  every default workload, no micro-benchmarks
 *   peers      real brokers side by side (bench/peers.ts; only when asked)
 *   compare BASELINE.json CURRENT.json   gate two result files without running anything
 * Options: --filter REGEX, --workload FILE (repeatable), --driver MODULE, --duration SECONDS,
 *   --runs N, --json FILE, --out DIR, --gate BASELINE.json, --threshold F, --alpha F,
 *   --allow-other-machine, --plain, --repeat N (whole command N times: repeatability per id).
 * Exit codes: 0 done (gate passed), 1 regression, 2 bad usage / incomparable baseline /
 *   a benchmark failed, 130 interrupted (results written, marked partial).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { MqlabError } from '../core/errors';
import type { BenchFunctionOptions, BenchProgress, DriverSpec, Workload } from './drivers/driver';
import { REPO_ROOT } from './drivers/load-driver';
import { loadWorkload } from './drivers/workload-loader';
import { benchWorkload, engineDriver, workloadId, type WorkloadBenchOutcome } from './drivers/workload-bench';
import { calibrate, CALIBRATION_METHOD } from './gate/calibration';
import { throttleFromEnv, THROTTLE_ENV } from './gate/throttle';
import { throttledSpec } from './gate/throttled-driver';
import { compareResults, formatGateReport, incompatibility, validateResultsFile } from './gate/gate';
import { machineInfo, versionInfo } from './report/machine';
import { createProgress, isInteractive, type Progress } from './report/progress';
import { RESULTS_SCHEMA_VERSION, summarizeRuns, type BenchResult, type ResultsFile, type SeriesPoint } from './report/result';
import { formatTable } from './report/table';
import { timestampName, writeResults, DEFAULT_RESULTS_DIR } from './report/write';
import { repeatability, repeatabilityMarkdown } from './report/repeatability';

type Model = 'kafka' | 'rabbitmq' | 'rocketmq';
const MODELS: readonly Model[] = ['kafka', 'rabbitmq', 'rocketmq'];
const SELECTORS = ['quick', 'core', 'kafka', 'rabbitmq', 'rocketmq', 'harness', 'noop', 'workloads', 'peers'] as const;

export const WORKLOADS_DIR = join(REPO_ROOT, 'bench', 'workloads');

/** Quick mode runs one max-throughput workload per model (plus the harness). */
const QUICK_WORKLOADS = ['noop-1-topic-1-partition-100b', 'kafka-1-topic-1-partition-100b', 'rabbitmq-1-topic-1-queue-100b', 'rocketmq-1-topic-4-queues-100b'];
const FULL_RUN_SEC = 2;
const FULL_RUNS = 3;
const QUICK_RUN_SEC = 1.2;
const QUICK_RUNS = 4;

export interface CliArgs {
  selectors: Set<string>;
  filter?: RegExp;
  workloads: string[];
  driver?: string;
  durationSec?: number;
  runs?: number;
  json?: string;
  out?: string;
  gate?: string;
  threshold?: number;
  alpha?: number;
  allowOtherMachine: boolean;
  plain: boolean;
  compare?: [string, string];
  /** Run the whole command this many times (fresh processes) and report repeatability per id. */
  repeat?: number;
  /** false (--no-interleave): run each max-throughput workload's runs back to back. */
  interleave?: boolean;
  /** false (--no-holm): the gate's alpha applies per id, not to the whole run. */
  familywise?: boolean;
}

const USAGE = `usage: npm run bench -- [quick] [core|kafka|rabbitmq|rocketmq|harness|workloads|peers]...
         [--filter REGEX] [--workload FILE]... [--driver MODULE] [--duration SECONDS] [--runs N]
         [--json FILE] [--out DIR] [--gate BASELINE.json [--threshold 0.1] [--alpha 0.05] [--no-holm] [--allow-other-machine]] [--plain]
         [--repeat N]   (the whole command N times in fresh processes: repeatability per id)
         [--no-interleave]   (max-throughput workloads' runs back to back instead of in rounds)
       npm run bench -- compare BASELINE.json CURRENT.json [--threshold 0.1] [--alpha 0.05] [--no-holm]`;

function usageError(msg: string): MqlabError {
  return new MqlabError('ERR_USAGE', `${msg}\n${USAGE}`);
}

export function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = { selectors: new Set(), workloads: [], allowOtherMachine: false, plain: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw usageError(`${flag} needs a value`);
    return v;
  };
  const num = (s: string, flag: string, min: number, integer = false): number => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw usageError(`${flag} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(s)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case '--filter': {
        const src = take();
        try {
          a.filter = new RegExp(src);
        } catch (e) {
          throw usageError(`--filter ${JSON.stringify(src)} is not a valid regular expression: ${(e as Error).message}`);
        }
        break;
      }
      case '--workload': a.workloads.push(take()); break;
      case '--driver': a.driver = take(); break;
      case '--duration': a.durationSec = num(take(), '--duration', 0.1); break;
      case '--runs': a.runs = num(take(), '--runs', 1, true); break;
      case '--json': a.json = take(); break;
      case '--out': a.out = take(); break;
      case '--gate': a.gate = take(); break;
      case '--threshold': a.threshold = num(take(), '--threshold', 0); break;
      case '--alpha': a.alpha = num(take(), '--alpha', 0); break;
      case '--allow-other-machine': a.allowOtherMachine = true; break;
      case '--plain': a.plain = true; break;
      case '--repeat': a.repeat = num(take(), '--repeat', 2, true); break;
      case '--no-interleave': a.interleave = false; break;
      case '--no-holm': a.familywise = false; break;
      case '--help': case '-h': throw new MqlabError('ERR_HELP', USAGE);
      case 'compare': {
        const b = argv[i + 1];
        const c = argv[i + 2];
        if (!b || !c) throw usageError('compare needs BASELINE.json and CURRENT.json');
        a.compare = [b, c];
        i += 2;
        break;
      }
      default:
        if (flag.startsWith('-')) throw usageError(`unknown option ${flag}`);
        if (!(SELECTORS as readonly string[]).includes(flag)) throw usageError(`unknown selector ${JSON.stringify(flag)} (one of ${SELECTORS.join(', ')})`);
        a.selectors.add(flag === 'noop' ? 'harness' : flag);
    }
  }
  return a;
}

function readResultsFile(file: string): ResultsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MqlabError('ERR_BASELINE', `cannot read ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new MqlabError('ERR_BASELINE', `${file} is not JSON: ${(e as Error).message}`);
  }
  try {
    return validateResultsFile(parsed, file);
  } catch (e) {
    throw new MqlabError('ERR_BASELINE', (e as Error).message);
  }
}

/** What one phase runs: a benchmark function module, workloads, or both. */
interface Phase {
  name: string;
  fn?: { module: string; exportName: string };
  workloads: Workload[];
}

const FUNCTIONS: Record<string, { module: string; exportName: string }> = {
  core: { module: 'bench/micro/core.ts', exportName: 'runCoreBench' },
  kafka: { module: 'bench/drivers/kafka-bench.ts', exportName: 'runKafkaBench' },
  rabbitmq: { module: 'bench/drivers/rabbitmq-bench.ts', exportName: 'runRabbitmqBench' },
  rocketmq: { module: 'bench/drivers/rocketmq-bench.ts', exportName: 'runRocketmqBench' },
  peers: { module: 'bench/peers.ts', exportName: 'runPeerBench' },
};

export function defaultWorkloads(): Workload[] {
  if (!existsSync(WORKLOADS_DIR)) return [];
  return readdirSync(WORKLOADS_DIR)
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort()
    .map((f) => loadWorkload(join(WORKLOADS_DIR, f)));
}

export function planPhases(args: CliArgs): Phase[] {
  const quick = args.selectors.has('quick');
  const sel = new Set([...args.selectors].filter((s) => s !== 'quick'));
  const explicit = args.workloads.map((f) => loadWorkload(resolve(f)));
  if (explicit.length > 0 && sel.size === 0) return [{ name: 'workloads', workloads: explicit }];
  const everything = sel.size === 0;
  let all = defaultWorkloads();
  if (quick) all = all.filter((w) => QUICK_WORKLOADS.includes(w.name));
  const phases: Phase[] = [];
  if (everything || sel.has('core')) phases.push({ name: 'core', fn: FUNCTIONS.core!, workloads: [] });
  for (const m of MODELS) {
    const models = everything || sel.has(m);
    const wl = everything || sel.has(m) || sel.has('workloads');
    if (!models && !wl) continue;
    const p: Phase = { name: m, workloads: wl ? all.filter((w) => w.model === m) : [] };
    if (models) p.fn = FUNCTIONS[m]!;
    phases.push(p);
  }
  if (everything || sel.has('harness') || sel.has('workloads')) phases.push({ name: 'harness', workloads: all.filter((w) => w.model === 'noop') });
  if (sel.has('peers')) phases.push({ name: 'peers', fn: FUNCTIONS.peers!, workloads: [] });
  if (explicit.length > 0) phases.push({ name: 'workloads', workloads: explicit });
  return phases;
}

function since(t: number): string {
  return `${((Date.now() - t) / 1000).toFixed(1)} s`;
}

type BenchFn = (opts: BenchFunctionOptions) => Promise<BenchResult[]>;

/** Load a benchmark function, or say in one line why it is not available. */
export function loadBenchFunction(module: string, exportName: string): BenchFn | string {
  const file = resolve(REPO_ROOT, module);
  if (!existsSync(file) && !existsSync(file.replace(/\.ts$/, '.js'))) return `${module} not found (not built yet)`;
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as Record<string, unknown>;
  } catch (e) {
    return `${module} failed to load: ${(e as Error).message.split('\n')[0]}`;
  }
  const fn = mod[exportName];
  return typeof fn === 'function' ? (fn as BenchFn) : `${module} does not export ${exportName}()`;
}

/**
 * The function's result, or undefined when the run is interrupted and the function does not
 * return within `graceMs` (a function that honours the signal returns what it measured).
 */
function abortable<T>(p: Promise<T>, signal: AbortSignal, graceMs = 3000): Promise<T | undefined> {
  return new Promise((res, rej) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => res(undefined), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    };
    p.then(
      (v) => {
        done();
        res(v);
      },
      (e: unknown) => {
        done();
        rej(e);
      },
    );
  });
}

interface RunState {
  results: BenchResult[];
  series: Record<string, SeriesPoint[]>;
  notAvailable: Array<{ phase: string; reason: string }>;
  calibration: { index: number[]; cpu: number[]; memcpy: number[] };
}

function takeCalibration(state: RunState): number {
  const c = calibrate();
  state.calibration.index.push(c.index);
  state.calibration.cpu.push(c.cpuOpsPerSec);
  state.calibration.memcpy.push(c.memcpyBytesPerSec);
  return c.index;
}

async function runPhase(phase: Phase, args: CliArgs, state: RunState, progress: Progress, signal: AbortSignal): Promise<void> {
  const quick = args.selectors.has('quick');
  // Quick runs are short, so they can afford 4 runs: enough for the gate's test (≥ 4 a side).
  const runs = args.runs ?? (quick ? QUICK_RUNS : FULL_RUNS);
  const durationSec = args.durationSec ?? (quick ? QUICK_RUN_SEC : args.workloads.length > 0 ? undefined : FULL_RUN_SEC);
  if (phase.fn && !signal.aborted) {
    const fn = loadBenchFunction(phase.fn.module, phase.fn.exportName);
    if (typeof fn === 'string') {
      state.notAvailable.push({ phase: phase.name, reason: fn });
      progress.line(`[${phase.name}] not available: ${fn}`);
    } else {
      const bar = progress.phase(phase.name, 1);
      const t0 = Date.now();
      const before = takeCalibration(state);
      const opts: BenchFunctionOptions = { quick, signal, onProgress: (p: BenchProgress) => bar.update(p.done, p.total, p.id ?? p.message) };
      if (args.filter) opts.filter = args.filter;
      if (args.runs !== undefined) opts.runs = args.runs;
      try {
        const out = await abortable(Promise.resolve().then(() => fn(opts)), signal);
        const after = takeCalibration(state);
        const got = (out ?? []).filter((r) => !args.filter || args.filter.test(r.id));
        for (const r of got) if (!r.calibration && !r.samples) r.calibration = [before, after];
        state.results.push(...got);
        bar.finish(out === undefined ? `interrupted after ${since(t0)}` : `${got.length} id(s) in ${since(t0)}`);
      } catch (e) {
        bar.finish('failed');
        const why = `${phase.fn.module} ${phase.fn.exportName}() failed: ${(e as Error).message?.split('\n')[0] ?? String(e)}`;
        state.notAvailable.push({ phase: phase.name, reason: why });
        progress.line(`[${phase.name}] not available: ${why}`);
      }
    }
  }
  const workloads = phase.workloads.filter((w) => !args.filter || args.filter.test(workloadId(w)));
  if (workloads.length === 0 || signal.aborted) return;
  const bar = progress.phase(`${phase.name}:wl`, workloads.length * runs);
  const t1 = Date.now();
  const missing = new Set<string>();
  const throttle = throttleFromEnv();
  let step = 0;
  const specOf = (w: Workload): DriverSpec | undefined => {
    const driver: DriverSpec = args.driver ? { module: args.driver } : engineDriver(w);
    if (!existsSync(resolve(REPO_ROOT, driver.module))) {
      missing.add(driver.module);
      return undefined;
    }
    // The gate's deliberate slowdown (tests and demonstrations only), same id.
    return throttle && (!throttle.filter || throttle.filter.test(workloadId(w))) ? throttledSpec(driver, throttle.fraction) : driver;
  };
  const benchOptions = (driver: DriverSpec, n: number, label: (run: number) => string) => ({
    runs: n,
    driver,
    signal,
    // Another driver than the model's engine: its figures get their own id.
    ...(args.driver ? { idSuffix: `@${basename(args.driver).replace(/\.[jt]s$/, '')}` } : {}),
    ...(durationSec !== undefined ? { durationSec, warmupSec: Math.min(1, durationSec / 5) } : {}),
    onProgress: (run: number, elapsed: number, total: number) => bar.update(step + run, workloads.length * runs, `${label(run)} · ${elapsed.toFixed(0)}/${total.toFixed(0)} s`),
    onCalibration: (index: number, cpu: number, memcpy: number) => {
      state.calibration.index.push(index);
      state.calibration.cpu.push(cpu);
      state.calibration.memcpy.push(memcpy);
    },
  });
  const failed = (w: Workload, e: unknown) => {
    const why = `${workloadId(w)} failed: ${(e as Error).message.split('\n')[0]}`;
    state.notAvailable.push({ phase: phase.name, reason: why });
    progress.line(`[${phase.name}] ${why}`);
  };
  // Max-throughput workloads run interleaved: round r runs each of them once, so the runs of one
  // id are spread over the whole phase and a burst of load on the machine costs every id one run
  // rather than one id all of its runs (the median of runs then shrugs it off). Fixed-rate
  // workloads keep their runs together: their latency histograms are merged over all runs.
  const interleaved = args.interleave !== false && runs >= 2 ? workloads.filter((w) => w.producerRate === 0) : [];
  const rounds = new Map<Workload, WorkloadBenchOutcome[]>();
  for (let r = 0; r < runs && interleaved.length > 0; r++) {
    for (const w of interleaved) {
      if (signal.aborted) break;
      const driver = specOf(w);
      if (!driver) continue;
      try {
        const outcome = await benchWorkload(w, benchOptions(driver, 1, () => `${workloadId(w)} round ${r + 1}/${runs}`));
        if (outcome) rounds.set(w, [...(rounds.get(w) ?? []), outcome]);
      } catch (e) {
        if (r === 0) failed(w, e);
      }
      step += 1;
    }
  }
  for (const w of workloads) {
    if (signal.aborted) break;
    if (interleaved.includes(w)) {
      const got = rounds.get(w);
      if (got && got.length > 0) {
        const merged = mergeRounds(got);
        state.results.push(merged.result);
        state.series[merged.result.id] = merged.series;
      }
      continue;
    }
    const driver = specOf(w);
    if (!driver) {
      step += runs;
      continue;
    }
    try {
      const outcome = await benchWorkload(w, benchOptions(driver, runs, (run) => `${workloadId(w)} run ${run + 1}/${runs}`));
      if (outcome) {
        state.results.push(outcome.result);
        state.series[outcome.result.id] = outcome.series;
      }
    } catch (e) {
      failed(w, e);
    }
    step += runs;
    bar.update(step, workloads.length * runs, workloadId(w));
  }
  for (const m of missing) state.notAvailable.push({ phase: phase.name, reason: `workloads need driver ${m}, not found (not built yet)` });
  bar.finish(missing.size > 0 ? `not available: ${[...missing].join(', ')} not found` : `${workloads.length} workload(s) in ${since(t1)}`);
}

/**
 * One result from the single-run outcomes of an interleaved workload: median, extremes, samples
 * and calibration over all rounds; latency, series and extra figures of the median round (at rate
 * 0 latency is queueing behind the backlog, not a latency test; see docs/bench.md).
 */
export function mergeRounds(rounds: WorkloadBenchOutcome[]): WorkloadBenchOutcome {
  const samples = rounds.flatMap((o) => o.result.samples ?? [o.result.opsPerSec]);
  const calibration = rounds.flatMap((o) => o.result.calibration ?? []);
  const order = rounds.map((_, i) => i).sort((a, b) => rounds[a]!.result.opsPerSec - rounds[b]!.result.opsPerSec);
  const mid = rounds[order[order.length >> 1]!]!;
  const first = mid.result;
  const bytesPerOp = first.opsPerSec > 0 ? first.bytesPerSec / first.opsPerSec : 0;
  const partial = rounds.some((o) => o.partial);
  const extra = { ...(first.extra ?? {}), interleaved: true, ...(partial ? { partial: true } : {}) };
  const result = summarizeRuns(first.id, samples, bytesPerOp, { extra, samples, ...(calibration.length === samples.length ? { calibration } : {}) });
  for (const k of ['p50Us', 'p99Us', 'p999Us', 'p9999Us', 'maxUs'] as const) if (first[k] !== undefined) result[k] = first[k];
  return { result, series: mid.series, partial };
}

function calibrationResults(state: RunState): BenchResult[] {
  const c = state.calibration;
  if (c.index.length === 0) return [];
  return [
    summarizeRuns('calibration.index', c.index, 0, { samples: c.index }),
    summarizeRuns('calibration.cpu', c.cpu, 0, { samples: c.cpu }),
    summarizeRuns('calibration.memcpy', c.memcpy, 1, { samples: c.memcpy }),
  ];
}

function baseFile(partial: boolean, args: string[]): Omit<ResultsFile, 'results'> {
  return { schema: RESULTS_SCHEMA_VERSION, createdAt: new Date().toISOString(), partial, machine: machineInfo(), versions: versionInfo(), run: { args, durationSec: 0, calibration: CALIBRATION_METHOD } };
}

function runCompare(args: CliArgs, log: (s: string) => void): number {
  const [bf, cf] = args.compare!;
  const baseline = readResultsFile(bf);
  const current = readResultsFile(cf);
  const why = incompatibility(baseline, current, args.allowOtherMachine);
  if (why) {
    log(`gate: cannot compare: ${why}`);
    return 2;
  }
  const report = compareResults(baseline, current, gateOptions(args));
  log(formatGateReport(report));
  return report.ok ? 0 : 1;
}

/** argv without the flags the repeat runner sets itself. */
function childArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (flag === '--repeat' || flag === '--json' || flag === '--out') {
      if (!a.includes('=')) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * `--repeat N`: the same command N times, each in a fresh process (as separate invocations are:
 * JIT, heap and the page cache state they leave behind included), then the per-id
 * repeatability table (bench/report/repeatability.ts) on stdout and beside the results.
 */
function runRepeated(argv: string[], args: CliArgs, log: (s: string) => void): number {
  const dir = resolve(args.out ?? DEFAULT_RESULTS_DIR);
  const stem = join(dir, `${timestampName(new Date())}-repeat`);
  mkdirSync(stem, { recursive: true });
  const files: ResultsFile[] = [];
  let code = 0;
  for (let i = 0; i < args.repeat!; i++) {
    const json = join(stem, `rep-${i + 1}.json`);
    log(`--- repetition ${i + 1}/${args.repeat} (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...childArgv(argv), '--json', json, '--out', stem], { stdio: 'inherit' });
    code = child.status ?? 130;
    if (existsSync(json)) files.push(readResultsFile(json));
    if (code !== 0) break;
  }
  if (files.length < 2) {
    log(`repeat: only ${files.length} repetition(s) finished; nothing to compare`);
    return code || 2;
  }
  const report = repeatability(files);
  report.args = [...childArgv(argv), '--repeat', String(args.repeat)];
  const md = repeatabilityMarkdown(report);
  writeFileSync(`${stem}.md`, md);
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 1)}\n`);
  if (args.json) writeFileSync(resolve(args.json), `${JSON.stringify(report, null, 1)}\n`);
  log('');
  log(md);
  log(`repeatability: ${stem}.md\n              ${stem}.json (each repetition's results in ${stem}/)`);
  return code;
}

function gateOptions(args: CliArgs) {
  return {
    ...(args.threshold !== undefined ? { threshold: args.threshold } : {}),
    ...(args.alpha !== undefined ? { alpha: args.alpha } : {}),
    ...(args.filter ? { filter: args.filter } : {}),
    ...(args.familywise === false ? { familywise: false } : {}),
    allowOtherMachine: args.allowOtherMachine,
  };
}

export async function main(argv: string[]): Promise<number> {
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const err = (s: string) => process.stderr.write(`${s}\n`);
  let args: CliArgs;
  let phases: Phase[];
  try {
    args = parseArgs(argv);
    if (args.compare) return runCompare(args, log);
    if (args.repeat) {
      if (args.gate) throw usageError('--repeat and --gate do not mix: gate one run, or record repetitions and compare them');
      return runRepeated(argv, args, log);
    }
    phases = planPhases(args);
  } catch (e) {
    if (e instanceof MqlabError && e.code === 'ERR_HELP') {
      log(e.message);
      return 0;
    }
    err(`mqlab bench: ${(e as Error).message}`);
    return 2;
  }

  let baseline: ResultsFile | undefined;
  if (args.gate) {
    try {
      baseline = readResultsFile(args.gate);
    } catch (e) {
      err(`mqlab bench: ${(e as Error).message}`);
      return 2;
    }
    // Refuse early, before minutes of measuring, when the baseline cannot be compared.
    const why = incompatibility(baseline, { ...baseFile(false, argv), results: [] }, args.allowOtherMachine);
    if (why) {
      err(`gate: cannot compare: ${why}`);
      return 2;
    }
  }

  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: stopping workers and writing what was measured (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let throttle;
  try {
    throttle = throttleFromEnv();
  } catch (e) {
    err(`mqlab bench: ${(e as Error).message}`);
    return 2;
  }
  if (throttle) err(`mqlab bench: ${THROTTLE_ENV}=${throttle.fraction}: deliberate slowdown of ${throttle.filter ? `ids matching ${throttle.filter.source}` : 'every workload and core id'} to ${(1 - throttle.fraction).toFixed(2)}x (for testing the gate)`);
  const progress = createProgress(!args.plain && isInteractive());
  const state: RunState = { results: [], series: {}, notAvailable: [], calibration: { index: [], cpu: [], memcpy: [] } };
  const started = Date.now();
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  try {
    takeCalibration(state);
    for (const phase of phases) {
      if (controller.signal.aborted) break;
      await runPhase(phase, args, state, progress, controller.signal);
    }
    takeCalibration(state);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }

  const partial = controller.signal.aborted;
  const file: ResultsFile = { ...baseFile(partial, argv), results: [...state.results, ...calibrationResults(state)] };
  file.run!.durationSec = Math.round((Date.now() - started) / 100) / 10;
  file.run!.loadAverageStart = loadStart;
  if (throttle) file.run!.throttle = throttle.fraction;
  file.run!.loadAverageEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  if (Object.keys(state.series).length > 0) file.series = state.series;
  if (state.notAvailable.length > 0) file.notAvailable = state.notAvailable;
  log('');
  log(formatTable(file.results));
  for (const n of state.notAvailable) log(`not available: ${n.phase}: ${n.reason}`);
  let written;
  try {
    written = writeResults(file, { ...(args.out ? { dir: resolve(args.out) } : {}), ...(args.json ? { json: args.json } : {}) });
  } catch (e) {
    err(`mqlab bench: cannot write results: ${(e as Error).message}`);
    return 2;
  }
  log(`results: ${written.json}\n         ${written.markdown}\n         ${written.html}${written.extraJson ? `\n         ${written.extraJson}` : ''}`);
  log(`${partial ? 'PARTIAL (interrupted) ' : ''}run took ${file.run!.durationSec} s`);
  if (partial) return 130;
  if (baseline) {
    const why = incompatibility(baseline, file, args.allowOtherMachine);
    if (why) {
      err(`gate: cannot compare: ${why}`);
      return 2;
    }
    const report = compareResults(baseline, file, gateOptions(args));
    log(formatGateReport(report));
    if (!report.ok) return 1;
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`mqlab bench: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}
