/**
 * Storage-core micro-benchmarks (tinybench). Run through the bench CLI (`npm run bench -- core`)
 * or alone: `npx tsx bench/micro/core.ts [--quick] [--json FILE] [--filter REGEX]`.
 *
 * Ids (all measured in one run; opsPerSec = records per second unless said otherwise):
 *   core.limit.memcpy.100B     the addon's own C++ loop framing (CRC32C + header) and copying
 *                              100-byte records into a prefaulted mapping: no JS, the ceiling
 *   core.append.100B           CommitLog.append, one call per record, flush 'none', 64 MiB segments
 *   core.appendBatch.100B      CommitLog.appendBatch, 1000 records per call
 *   core.appendPacked.100B     CommitLog.appendPacked, the same 1000 records in one buffer per call
 *   core.append.1KB            CommitLog.append of 1 KiB records (see bytesPerSec)
 *   core.read.100B             CommitLog.read by position of 100-byte records
 *   core.append.100B.workers2  two worker threads appending to one log, aggregate
 *   core.append-sync.100B      CommitLog.write under flush 'sync', 64 writes in flight
 *   core.fs-writeSync.100B     baseline: fs.writeSync of 100 bytes per record to a file
 *   core.fs-fdatasync.100B     baseline: fs.writeSync + fs.fdatasyncSync per record
 *   core.recover.1GiB          CommitLog.open of a 1 GiB log right after kill -9 of a child that
 *                              was appending to it; opsPerSec = 1 / seconds
 * Each id is measured `runs` times (tinybench iterations, one warm-up); results carry the median,
 * the slowest/fastest run, and per run its rate (`samples`) and the calibration index measured
 * right before it (`calibration`, untimed), which the regression gate tests. Data lives under os.tmpdir() and is removed afterwards.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { CommitLog, type AppendMode } from '../../core/log';
import { nativeAddon } from '../../core/log/native';
import { workerEntry } from '../../core/threads/worker-entry';
import type { BenchFunctionOptions } from '../drivers/driver';
import { calibrate } from '../gate/calibration';
import { throttleFromEnv, spinNs } from '../gate/throttle';
import { summarizeRuns, type BenchResult } from '../report/result';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface Plan {
  runs: number;
  quick: boolean;
}

/**
 * Runs `fn` (one run = `opsPerRun` operations) `runs` times after one warm-up with tinybench and
 * returns the per-run rates. `fn` may return a duration in ms to replace the measured one (for
 * native loops and for measurements that exclude their own setup).
 */
export interface Measured {
  /** Operations per wall-clock second, one per run. */
  rates: number[];
  /** Per run: the speed index taken just before it (untimed) × the CPU share it got (≤ 1). */
  calibration: number[];
  calibrationIndex: number[];
  cpuShare: number[];
  /** Operations per CPU-second of the whole process (all threads), one per run: on a machine shared
   *  with other work this moves much less than the wall-clock rate. */
  cpuRates: number[];
}

const WARMUP_MS = 200;

/** The last id's per-run parts (index, CPU share), for the gate's sample collector. */
export let lastMeasured: Measured | undefined;

/** The id runCoreBench is measuring (for the gate's deliberate slowdown, which is per id). */
let currentId = '';

async function measure(name: string, runs: number, opsPerRun: number, fn: () => unknown): Promise<Measured> {
  // Warm-up: at least one run and at least WARMUP_MS, so a 20 ms run (quick) is not measured on
  // code the JIT has not optimised yet (the first runs of a process were 20-30% slower).
  const bench = new Bench({ iterations: runs, time: 0, warmup: true, warmupIterations: 1, warmupTime: WARMUP_MS, retainSamples: true, throws: true });
  const cpuRates: number[] = [];
  const calibration: number[] = [];
  // The deliberate slowdown (MQLAB_BENCH_THROTTLE, the gate's tests only): after a run that took
  // d, spin d × f / (1 − f) and count it, so the rate is exactly (1 − f) × what it was.
  const throttle = throttleFromEnv();
  const slow = throttle && (!throttle.filter || throttle.filter.test(currentId)) ? throttle.fraction : 0;
  // Run order matters (each run pairs with the calibration taken before it): keep our own list
  // of durations, in order, rather than tinybench's sorted samples.
  const durations: number[] = [];
  const shares: number[] = [];
  bench.add(name, async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const ms = await fn();
    let d = typeof ms === 'number' ? ms : performance.now() - t0;
    if (slow > 0) {
      spinNs(((d * slow) / (1 - slow)) * 1e6);
      d /= 1 - slow;
    }
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    cpuRates.push(opsPerRun / (cpuMs / 1000));
    shares.push(wallMs > 0 ? cpuMs / wallMs : Number.NaN);
    durations.push(d);
    return { overriddenDuration: d };
  }, {
    // Not timed: what the machine could do right before each run, so the gate can divide by it.
    beforeEach: (mode) => {
      if (mode !== 'warmup') calibration.push(calibrate().index);
    },
  });
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed' || !result.latency.samples) throw new Error(`benchmark ${name} did not complete (${result.state})`);
  // A run's calibration: the speed index × the CPU share the process got in it (capped at one
  // core), as for workload runs: a run the neighbours took the CPU from is judged by that.
  const index = calibration.slice(-runs);
  const share = shares.slice(-runs);
  return (lastMeasured = {
    rates: durations.slice(-runs).map((ms) => opsPerRun / (ms / 1000)),
    calibration: index.map((x, i) => (share[i]! > 0 ? x * Math.min(1, share[i]!) : x)),
    calibrationIndex: index,
    cpuShare: share,
    cpuRates: cpuRates.slice(-runs),
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** summarizeRuns plus the CPU-time rate and the load the machine was under. */
function summarize(id: string, m: Measured, bytesPerOp: number, extra: Record<string, number | string | boolean> = {}): BenchResult {
  const more: Partial<BenchResult> = {
    extra: { ...extra, cpuOpsPerSec: Math.round(median(m.cpuRates)), loadAvg1m: Math.round(os.loadavg()[0]! * 100) / 100 },
    samples: m.rates,
  };
  if (m.calibration.length === m.rates.length) more.calibration = m.calibration;
  return summarizeRuns(id, m.rates, bytesPerOp, more);
}

function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mqlab-bench-${name}-`));
}

function withLog<T>(options: Parameters<typeof CommitLog.open>[1], body: (log: CommitLog, dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir('log');
  const log = CommitLog.open(dir, options);
  return body(log, dir).finally(() => {
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

type Case = (plan: Plan) => Promise<BenchResult>;

const CASES: Record<string, Case> = {
  'core.limit.memcpy.100B': async ({ runs, quick }) => {
    const dir = tempDir('limit');
    try {
      const n = quick ? 2_000_000 : 10_000_000;
      const rates = await measure('limit', runs, n, () => nativeAddon().benchFrameCopy(dir, 100, n) * 1000);
      return summarize('core.limit.memcpy.100B', rates, 100);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },

  'core.append.100B': ({ runs, quick }) =>
    withLog({}, async (log) => {
      const payload = Buffer.alloc(100, 1);
      const n = quick ? 300_000 : 1_000_000;
      const rates = await measure('append', runs, n, () => {
        for (let i = 0; i < n; i++) log.append(payload);
      });
      return summarize('core.append.100B', rates, 100, { segments: log.segmentCount() });
    }),

  'core.appendBatch.100B': ({ runs, quick }) =>
    withLog({}, async (log) => {
      const batch = Array.from({ length: 1000 }, (_, i) => Buffer.alloc(100, i));
      const calls = quick ? 300 : 1000;
      const rates = await measure('appendBatch', runs, calls * 1000, () => {
        for (let i = 0; i < calls; i++) log.appendBatch(batch);
      });
      return summarize('core.appendBatch.100B', rates, 100);
    }),

  'core.appendPacked.100B': ({ runs, quick }) =>
    withLog({}, async (log) => {
      // The same 1000 records as core.appendBatch.100B, already laid end to end in one buffer (as a
      // producer that encodes its own batches has them): what the addon costs without the staging copy.
      const packed = Buffer.concat(Array.from({ length: 1000 }, (_, i) => Buffer.alloc(100, i)));
      const lengths = new Uint32Array(1000).fill(100);
      const calls = quick ? 300 : 1000;
      const rates = await measure('appendPacked', runs, calls * 1000, () => {
        for (let i = 0; i < calls; i++) log.appendPacked(packed, lengths);
      });
      return summarize('core.appendPacked.100B', rates, 100);
    }),

  'core.append.1KB': ({ runs, quick }) =>
    withLog({}, async (log) => {
      const payload = Buffer.alloc(1024, 2);
      const n = quick ? 50_000 : 200_000;
      const rates = await measure('append1k', runs, n, () => {
        for (let i = 0; i < n; i++) log.append(payload);
      });
      return summarize('core.append.1KB', rates, 1024);
    }),

  'core.read.100B': ({ runs, quick }) =>
    withLog({}, async (log) => {
      const n = quick ? 200_000 : 1_000_000;
      const payload = Buffer.alloc(100, 3);
      const positions = new Float64Array(n);
      for (let i = 0; i < n; i++) positions[i] = log.append(payload);
      let sum = 0;
      const rates = await measure('read', runs, n, () => {
        for (let i = 0; i < n; i++) sum += log.read(positions[i]!).payload.length;
      });
      if (sum === 0) throw new Error('reads returned nothing');
      return summarize('core.read.100B', rates, 100);
    }),

  'core.append.100B.workers2': async ({ runs, quick }) => {
    const n = quick ? 300_000 : 1_000_000;
    // Each worker opens the log with appendMode 'chunked': the mode made for several threads
    // appending at full speed (each fills its own 64 KiB chunk, no shared cache line per append).
    const shared = await twoWorkerAppends('workers2', runs, n, false, 'chunked');
    // References from the same run: the default 'ordered' mode (every append takes the log's
    // lock), then two separate logs: nothing shared, what two appending threads get from this
    // machine at all. After the measured id, because the gigabytes they write leave the kernel
    // busy (dropping the deleted files' pages) and would slow whatever runs right after; the
    // gate's per-run samples stay the chunked shared log's.
    const ordered = await twoWorkerAppends('workers2-ordered', runs, n, false, 'ordered');
    const separate = await twoWorkerAppends('workers2-separate', runs, n, true, 'ordered');
    lastMeasured = shared;
    return summarize('core.append.100B.workers2', shared, 100, {
      appendMode: 'chunked',
      orderedModeOpsPerSec: Math.round(median(ordered.rates)),
      separateLogsOpsPerSec: Math.round(median(separate.rates)),
    });
  },

  'core.append-sync.100B': ({ runs, quick }) =>
    withLog({ flush: 'sync' }, async (log) => {
      const payload = Buffer.alloc(100, 4);
      const n = quick ? 3000 : 20_000;
      const inFlight = 64;
      const rates = await measure('appendSync', runs, n, async () => {
        let issued = 0;
        const lane = async (): Promise<void> => {
          while (issued < n) {
            issued++;
            await log.write(payload);
          }
        };
        await Promise.all(Array.from({ length: inFlight }, lane));
      });
      return summarize('core.append-sync.100B', rates, 100, { inFlight });
    }),

  'core.fs-writeSync.100B': async ({ runs, quick }) => {
    const dir = tempDir('fswrite');
    const fd = fs.openSync(path.join(dir, 'data'), 'a');
    try {
      const payload = Buffer.alloc(100, 5);
      const n = quick ? 100_000 : 300_000;
      const rates = await measure('fsWrite', runs, n, () => {
        for (let i = 0; i < n; i++) fs.writeSync(fd, payload);
      });
      return summarize('core.fs-writeSync.100B', rates, 100);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },

  'core.fs-fdatasync.100B': async ({ runs, quick }) => {
    const dir = tempDir('fsync');
    const fd = fs.openSync(path.join(dir, 'data'), 'a');
    try {
      const payload = Buffer.alloc(100, 6);
      const n = quick ? 200 : 1000;
      const rates = await measure('fdatasync', runs, n, () => {
        for (let i = 0; i < n; i++) {
          fs.writeSync(fd, payload);
          fs.fdatasyncSync(fd);
        }
      });
      return summarize('core.fs-fdatasync.100B', rates, 100);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },

  'core.recover.1GiB': async ({ runs }) => {
    const dir = tempDir('recover');
    const seconds: number[] = [];
    try {
      const rates = await measure('recover', runs, 1, async () => {
        // Every measured open follows a real kill -9 of a child that was appending.
        await appendThenKill(dir, GiB);
        const t0 = performance.now();
        const log = CommitLog.open(dir);
        const ms = performance.now() - t0;
        const end = log.endPosition;
        log.close();
        if (end < GiB) throw new Error(`recovered log holds ${end} bytes, expected >= 1 GiB`);
        seconds.push(ms / 1000);
        return ms;
      });
      return summarize('core.recover.1GiB', rates, 0, { medianSeconds: Math.round(median(seconds) * 1000) / 1000 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Starts the recover child, waits until the log holds `bytes`, then SIGKILLs it mid-append. */
function appendThenKill(dir: string, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'core-recover-child.ts'), dir, String(bytes)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) setTimeout(() => child.kill('SIGKILL'), 20);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`recover child exited ${code}: ${err}`))));
  });
}

/** Two worker threads each appending `n` 100-byte records per run, to one log or to one log each. */
async function twoWorkerAppends(name: string, runs: number, n: number, separateLogs: boolean, appendMode: AppendMode): Promise<Measured> {
  const root = tempDir(name);
  const dirs = separateLogs ? [path.join(root, 'a'), path.join(root, 'b')] : [root, root];
  for (const d of dirs) fs.mkdirSync(d, { recursive: true });
  const { filename, argv } = workerEntry(path.join(__dirname, 'core-append-worker.ts'));
  const workers = dirs.map((dir) => new Worker(filename, { argv, workerData: { dir, appendMode } }));
  const next = (w: Worker) => new Promise<{ start: number; end: number; ready?: boolean }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  try {
    await Promise.all(workers.map(next));
    return await measure(name, runs, 2 * n, async () => {
      const done = Promise.all(workers.map(next));
      for (const w of workers) w.postMessage({ count: n });
      const spans = await done;
      return Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
    });
  } finally {
    await Promise.all(workers.map((w) => new Promise((resolve) => {
      w.once('exit', resolve);
      w.postMessage({ close: true });
    })));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export const CORE_BENCH_IDS = Object.keys(CASES);

export async function runCoreBench(opts: BenchFunctionOptions = {}): Promise<BenchResult[]> {
  const plan: Plan = { quick: !!opts.quick, runs: opts.runs ?? (opts.quick ? 3 : 5) };
  const ids = CORE_BENCH_IDS.filter((id) => !opts.filter || opts.filter.test(id));
  const results: BenchResult[] = [];
  for (const [i, id] of ids.entries()) {
    if (opts.signal?.aborted) break;
    opts.onProgress?.({ id, done: i, total: ids.length, message: `core: ${id}` });
    currentId = id;
    results.push(await CASES[id]!(plan));
  }
  opts.onProgress?.({ done: ids.length, total: ids.length, message: 'core: done' });
  return results;
}

/** The targets as ratios between ids of one run, by wall clock and by CPU time. */
export function targetReport(results: readonly BenchResult[]): string[] {
  const by = new Map(results.map((r) => [r.id, r]));
  const wall = (id: string) => by.get(id)?.opsPerSec;
  const cpu = (id: string) => by.get(id)?.extra?.cpuOpsPerSec as number | undefined;
  const lines: string[] = [];
  // CPU-time ratios only where both sides do the same kind of work on one thread.
  const ratio = (label: string, a: string, b: string, want: number, withCpu = true) => {
    const w = wall(a) !== undefined && wall(b) ? wall(a)! / wall(b)! : undefined;
    const c = withCpu && cpu(a) !== undefined && cpu(b) ? cpu(a)! / cpu(b)! : undefined;
    if (w === undefined) return;
    lines.push(`${label.padEnd(44)} wall ${w.toFixed(2).padStart(7)}  cpu ${c === undefined ? '-' : c.toFixed(2).padStart(7)}  target >= ${want}`);
  };
  const a = wall('core.append.100B');
  if (a !== undefined) lines.push(`${'core.append.100B (M records/s)'.padEnd(44)} wall ${(a / 1e6).toFixed(2).padStart(7)}  cpu ${((cpu('core.append.100B') ?? 0) / 1e6).toFixed(2).padStart(7)}  target >= 10`);
  ratio('core.append.100B / core.limit.memcpy.100B', 'core.append.100B', 'core.limit.memcpy.100B', 0.3);
  ratio('core.append.100B / core.fs-writeSync.100B', 'core.append.100B', 'core.fs-writeSync.100B', 10);
  ratio('core.appendBatch.100B / core.limit.memcpy.100B', 'core.appendBatch.100B', 'core.limit.memcpy.100B', 0.6);
  ratio('core.appendPacked.100B / core.limit.memcpy.100B', 'core.appendPacked.100B', 'core.limit.memcpy.100B', 0.6);
  const kb = by.get('core.append.1KB');
  if (kb) lines.push(`${'core.append.1KB (GB/s)'.padEnd(44)} wall ${(kb.bytesPerSec / 1e9).toFixed(2).padStart(7)}  cpu ${(((kb.extra?.cpuOpsPerSec as number) ?? 0) * 1024 / 1e9).toFixed(2).padStart(7)}  target >= 2`);
  ratio('core.append.100B.workers2 / core.append.100B', 'core.append.100B.workers2', 'core.append.100B', 1.3, false);
  const w2 = by.get('core.append.100B.workers2')?.extra;
  const reference = (label: string, rate: unknown, note: string): void => {
    if (a !== undefined && typeof rate === 'number') lines.push(`${label.padEnd(44)} wall ${(rate / a).toFixed(2).padStart(7)}  (${note})`);
  };
  reference('  one log, appendMode ordered / append', w2?.orderedModeOpsPerSec, 'every append takes the log lock');
  reference('  two workers on two separate logs / append', w2?.separateLogsOpsPerSec, 'nothing shared: what two appending threads get here');
  ratio('core.append-sync.100B / core.fs-fdatasync.100B', 'core.append-sync.100B', 'core.fs-fdatasync.100B', 20, false);
  const rec = by.get('core.recover.1GiB');
  if (rec) lines.push(`${'core.recover.1GiB (seconds, median)'.padEnd(44)} ${(1 / rec.opsPerSec).toFixed(3)}  target < 1`);
  return lines;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf('--json');
  const filterAt = args.indexOf('--filter');
  const json = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const opts: BenchFunctionOptions = {
    quick: args.includes('--quick') || args.includes('quick'),
    onProgress: (p) => p.id && process.stderr.write(`${p.message ?? p.id}\n`),
  };
  if (filterAt >= 0) opts.filter = new RegExp(args[filterAt + 1]!);
  const results = await runCoreBench(opts);
  const { formatTable } = await import('../report/table');
  process.stdout.write(`${formatTable(results)}\n\ntargets (ratios within this run; load average ${os.loadavg()[0]!.toFixed(1)}):\n${targetReport(results).join('\n')}\n`);
  if (json) {
    const { machineInfo, versionInfo } = await import('../report/machine');
    const { RESULTS_SCHEMA_VERSION } = await import('../report/result');
    const file = { schema: RESULTS_SCHEMA_VERSION, createdAt: new Date().toISOString(), partial: false, machine: machineInfo(), versions: versionInfo(), results };
    fs.writeFileSync(json, `${JSON.stringify(file, null, 2)}\n`);
    process.stderr.write(`wrote ${json}\n`);
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
