/**
 * Runs checks against an adapter: for each check, a fresh adapter (own data directory, own
 * names), a recording wrapper, the check's `run` under its time bound, then the checker over
 * the recorded history and the verdict. Results are data (RunResult); report/ renders them as
 * TAP, JUnit XML and JSON.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MqlabError } from '../core/errors';
import { DEFAULT_TIMEOUTS, type AdapterInfo, type ModelName, type OperationTimeouts } from './adapters/common';
import type { AdapterFor } from './adapters/guard';
import { createCheckedAdapter, type ResolvedAdapter } from './adapter-loader';
import type { AnomalySummary } from './checker/verdict';
import { checkHistory } from './checker/check-history';
import { renderCase } from './checker/render';
import { writeHistory } from './history/jsonl';
import { HistoryRecorder } from './history/recorder';
import type { Check, CheckContext, DirectFailure, RecordingAdapterFor, Scale } from './suites/framework/check';
import { Rng } from './suites/framework/rng';
import { withTimeout } from './suites/framework/timeout';
import { createWorkerPool, type WorkerPool } from './suites/framework/workers';
import { RecordingBrokerAdapter } from './suites/recording/recording-broker';
import { RecordingLogAdapter } from './suites/recording/recording-log';
import { RecordingQueueAdapter } from './suites/recording/recording-queue';
import { loadChecks } from './suites/registry';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  description: string;
  status: CheckStatus;
  /** Why skipped, or a one-line summary of why it failed. */
  reason?: string;
  seed: number;
  durationMs: number;
  ops: number;
  anomalies: AnomalySummary[];
  /** Direct assertion failures and errors (timeouts, adapter errors). */
  failures: string[];
  logs: string[];
  historyFile?: string;
}

export interface RunOptions {
  model: ModelName;
  adapter: ResolvedAdapter;
  seed: number;
  long: boolean;
  /** Only checks whose name contains one of these. */
  filter?: readonly string[];
  /** Write every history here (default: only failing checks' histories, under a temp dir). */
  historyDir?: string;
  /** Worker threads for producers when the adapter supports it; 0 = none. */
  threads: number;
  timeouts?: Partial<OperationTimeouts>;
  params?: Record<string, string>;
  /** Override the size of the run (tests use small runs). */
  scale?: Partial<Scale>;
  /** Extra suite folders (tests); default: the registry's. */
  suiteDirs?: readonly string[];
  /** Called as each check finishes (for streaming TAP). */
  onResult?: (r: CheckResult, index: number, total: number) => void;
  onPlan?: (total: number, info: AdapterInfo) => void;
}

export interface RunResult {
  tool: 'mqlab conform';
  model: ModelName;
  adapter: { spec: string; name: string; guarantee: string; capabilities: readonly string[] };
  seed: number;
  mode: 'quick' | 'long';
  startedAt: string;
  durationMs: number;
  counts: { pass: number; fail: number; skip: number };
  results: CheckResult[];
}

/** A stable 31-bit hash, so one check's seed does not depend on which other checks ran. */
function hashName(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 1;
}

export function checkSeed(runSeed: number, name: string): number {
  return ((runSeed ^ hashName(name)) >>> 0) % 0x7fffffff || 1;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
}

function wrap<M extends ModelName>(model: M, raw: AdapterFor[M], rec: HistoryRecorder, timeouts: OperationTimeouts): RecordingAdapterFor[M] {
  switch (model) {
    case 'kafka':
      return new RecordingLogAdapter(raw as AdapterFor['kafka'], rec, timeouts) as RecordingAdapterFor[M];
    case 'rabbitmq':
      return new RecordingQueueAdapter(raw as AdapterFor['rabbitmq'], rec, timeouts) as RecordingAdapterFor[M];
    default:
      return new RecordingBrokerAdapter(raw as AdapterFor['rocketmq'], rec, timeouts) as RecordingAdapterFor[M];
  }
}

export function scaleFor(long: boolean): Scale {
  return long ? { long, messages: 20_000, idleMs: 1_000 } : { long, messages: 200, idleMs: 150 };
}

/** The run's scale: the default for the mode, a slower adapter's longer quiet window, then explicit overrides. */
export function scaleWith(long: boolean, info: Pick<AdapterInfo, 'quietMs'>, override?: Partial<Scale>): Scale {
  const base = scaleFor(long);
  return { ...base, idleMs: Math.max(base.idleMs, info.quietMs ?? 0), ...override };
}

interface Env<M extends ModelName> {
  opts: RunOptions;
  model: M;
  info: AdapterInfo;
  timeouts: OperationTimeouts;
  workDir: string;
  historyDir: string;
  runTag: string;
}

let strayRejectionSink: ((e: unknown) => void) | null = null;
function onStrayRejection(e: unknown): void {
  if (strayRejectionSink) strayRejectionSink(e);
}

async function runOne<M extends ModelName>(env: Env<M>, check: Check<M>): Promise<CheckResult> {
  const seed = checkSeed(env.opts.seed, check.name);
  const started = Date.now();
  const base = { name: check.name, description: check.description, seed, ops: 0, anomalies: [] as AnomalySummary[], failures: [] as string[], logs: [] as string[] };
  const caps = new Set<string>(env.info.capabilities);
  const missing = (check.requires ?? []).filter((c) => !caps.has(c));
  if (missing.length > 0) return { ...base, status: 'skip', reason: `adapter lacks capability ${missing.join(', ')}`, durationMs: 0 };
  if (check.longOnly && !env.opts.long) return { ...base, status: 'skip', reason: 'runs only with --long', durationMs: 0 };

  const rec = new HistoryRecorder(undefined, env.opts.long ? 20_000_000 : 1_000_000);
  const failures: DirectFailure[] = [];
  // A promise the check or adapter left floating (e.g. `void channel.ack(tag)`) that rejects is
  // this check's failure, not a crash of the whole run.
  strayRejectionSink = (e) => failures.push({ message: `unhandled rejection during the check: ${(e as Error)?.message ?? String(e)}` });
  const logs: string[] = [];
  const dataDir = fs.mkdtempSync(path.join(env.workDir, `${slug(check.name)}-`));
  let adapter: RecordingAdapterFor[M] | null = null;
  let pool: WorkerPool | null = null;
  try {
    const raw = await createCheckedAdapter(env.model, env.opts.adapter, { dataDir, seed, namespace: env.runTag, ...(env.opts.params ? { params: env.opts.params } : {}) }, env.timeouts.connect);
    adapter = wrap(env.model, raw, rec, env.timeouts);
    if (env.opts.threads > 0 && caps.has('worker-threads') && raw.workerSpec) {
      pool = createWorkerPool(env.model, () => raw.workerSpec!(), rec, env.timeouts, env.opts.threads);
    }
    let ids = 0;
    const nameTag = `${env.runTag}-${slug(check.name).slice(0, 40)}`;
    const ctx: CheckContext<M> = {
      model: env.model,
      adapter,
      recorder: rec,
      seed,
      rng: new Rng(seed),
      scale: scaleWith(env.opts.long, env.info, env.opts.scale),
      timeouts: env.timeouts,
      has: (c) => caps.has(c),
      name: (b) => `${nameTag}-${slug(b)}`.slice(0, 120),
      id: () => `m${++ids}`,
      expect: (ok, message, evidence) => {
        if (!ok) failures.push(evidence === undefined ? { message } : { message, evidence });
      },
      drained: (targets) => rec.observe('suite', 'drain', { targets: [...targets] }),
      log: (m) => logs.push(m),
      workers: pool,
      sleep: (ms) =>
        new Promise((resolve, reject) =>
          setTimeout(() => (rec.overflowed ? reject(new MqlabError('ERR_HISTORY_LIMIT', `more than ${rec.limit} operations recorded: a runaway delivery loop?`)) : resolve()), ms),
        ),
    };
    const bound = check.timeoutMs ?? (env.opts.long ? 600_000 : 60_000);
    await withTimeout(() => check.run(ctx), bound, `check ${check.name}`);
  } catch (e) {
    const err = e as Error & { code?: string };
    failures.push({ message: `${err.code ? `${err.code}: ` : ''}${err.message}` });
  } finally {
    if (pool) await pool.close().catch(() => undefined);
    if (adapter) {
      try {
        await adapter.close();
      } catch (e) {
        failures.push({ message: `closing the adapter failed: ${(e as Error).message}` });
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    strayRejectionSink = null;
  }
  if (rec.overflowed) failures.push({ message: `history limit of ${rec.limit} operations reached; operations after it were not recorded` });
  const ops = rec.finish();
  const verdict = checkHistory(ops, { guarantee: env.info.guarantee, ...(check.allow ? { allow: check.allow } : {}) });
  const failed = failures.length > 0 || !verdict.valid;
  const result: CheckResult = {
    ...base,
    status: failed ? 'fail' : 'pass',
    durationMs: Date.now() - started,
    ops: ops.length,
    anomalies: verdict.summaries,
    failures: failures.map((f) => (f.evidence === undefined ? f.message : `${f.message} ${JSON.stringify(f.evidence)}`.slice(0, 2000))),
    logs,
  };
  if (failed) {
    const parts = [...verdict.failures.map((a) => `${a}: ${renderCase(verdict.summaries.find((s) => s.anomaly === a)!.examples[0]!)}`), ...result.failures];
    result.reason = parts[0]!.slice(0, 300);
  }
  if (failed || env.opts.historyDir) {
    fs.mkdirSync(env.historyDir, { recursive: true });
    const file = path.join(env.historyDir, `${slug(check.name)}.jsonl`);
    writeHistory(file, ops, { model: env.model, check: check.name, seed, adapter: env.info.name });
    result.historyFile = file;
  }
  return result;
}

/** Reads the adapter's declared info once (creating and closing one instance). */
export async function probeAdapter<M extends ModelName>(model: M, adapter: ResolvedAdapter, timeouts: OperationTimeouts, workDir: string, params?: Record<string, string>): Promise<AdapterInfo> {
  const dataDir = fs.mkdtempSync(path.join(workDir, 'probe-'));
  try {
    const raw = await createCheckedAdapter(model, adapter, { dataDir, ...(params ? { params } : {}) }, timeouts.connect);
    const info = { ...raw.info, capabilities: [...raw.info.capabilities] } as AdapterInfo;
    await withTimeout(() => raw.close(), timeouts.lifecycle, 'adapter.close').catch(() => undefined);
    return info;
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runConformance(opts: RunOptions): Promise<RunResult> {
  const startedAt = new Date();
  const t0 = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-conform-'));
  process.on('unhandledRejection', onStrayRejection);
  try {
    let timeouts: OperationTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    const info = await probeAdapter(opts.model, opts.adapter, timeouts, workDir, opts.params);
    timeouts = { ...DEFAULT_TIMEOUTS, ...info.timeouts, ...opts.timeouts };
    const loaded = loadChecks(opts.model, opts.suiteDirs);
    let checks = loaded.checks;
    if (opts.filter && opts.filter.length > 0) checks = checks.filter((c) => opts.filter!.some((f) => c.name.includes(f)));
    if (checks.length === 0 && loaded.errors.length === 0) throw new MqlabError('ERR_NO_CHECKS', `no checks for model ${opts.model}${opts.filter ? ` matching ${opts.filter.join(', ')}` : ''}`);
    const total = checks.length + loaded.errors.length;
    opts.onPlan?.(total, info);
    const env: Env<ModelName> = {
      opts,
      model: opts.model,
      info,
      timeouts,
      workDir,
      historyDir: opts.historyDir ?? path.join(os.tmpdir(), `mqlab-histories-${opts.model}-${opts.seed}`),
      runTag: `mq${(opts.seed % 100000).toString(36)}${Date.now().toString(36).slice(-4)}`,
    };
    const results: CheckResult[] = [];
    for (const e of loaded.errors) {
      const r: CheckResult = { name: `load ${path.relative(process.cwd(), e.file)}`, description: 'suite file loads', status: 'fail', reason: e.message, seed: opts.seed, durationMs: 0, ops: 0, anomalies: [], failures: [e.message], logs: [] };
      results.push(r);
      opts.onResult?.(r, results.length, total);
    }
    for (const c of checks) {
      const r = await runOne(env, c as Check<ModelName>);
      results.push(r);
      opts.onResult?.(r, results.length, total);
    }
    const counts = { pass: 0, fail: 0, skip: 0 };
    for (const r of results) counts[r.status]++;
    return {
      tool: 'mqlab conform',
      model: opts.model,
      adapter: { spec: opts.adapter.spec, name: info.name, guarantee: info.guarantee, capabilities: info.capabilities },
      seed: opts.seed,
      mode: opts.long ? 'long' : 'quick',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - t0,
      counts,
      results,
    };
  } finally {
    process.off('unhandledRejection', onStrayRejection);
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
