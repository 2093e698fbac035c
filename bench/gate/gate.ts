/**
 * The regression gate: compares a run with a stored baseline on a noisy, shared machine.
 *
 * 1. Each run of an id is divided by the calibration measured right before it (the speed index
 *    × the CPU share the run got, see calibration.ts and runCalibration), so a machine that is
 *    30% slower this minute does not look like a 30% regression.
 * 2. With per-run samples on both sides (≥ 4 runs each): the upper quartile of the normalised
 *    runs, current ÷ baseline, tested with a one-sided permutation test (upper-quantile-test.ts;
 *    `test: 'mann-whitney'` for the rank test). An id regresses when p < alpha AND the ratio is
 *    below 1 − threshold (0.10): the test alone flags tiny real changes, the ratio alone noise.
 * 3. With fewer runs, or without samples (median/min/max only; normalised by the calibration
 *    measured around that benchmark), an id regresses when the normalised median ratio is below
 *    1 − threshold and every current run is below every baseline run, which has the exact
 *    p = 1 / C(n + m, n).
 * 4. Holm's correction over all compared ids keeps alpha for the whole run (`familywise: false`
 *    for alpha per id).
 * Higher ops/s is better; latency is reported but not gated (too noisy on a shared machine).
 */
import { RESULTS_SCHEMA_VERSION, type BenchResult, type ResultsFile } from '../report/result';
import { mannWhitneyLess } from './mann-whitney';
import { choose, quantile, upperQuantileLess } from './upper-quantile-test';

/** The quantile the default test compares: the upper quartile of the normalised runs. */
export const UPPER_Q = 0.75;

export type GateTest = 'upper-quantile' | 'mann-whitney';
export const DEFAULT_GATE_TEST: GateTest = 'upper-quantile';

/** Runs per side below which the exact test cannot reach alpha 0.05 (3 vs 3: p ≥ 0.05). */
export const MIN_RUNS_FOR_TEST = 4;

export interface GateOptions {
  /** Smallest slowdown that counts (fraction of the baseline). Default 0.10. */
  threshold?: number;
  /** Significance level of the one-sided test. Default 0.05. */
  alpha?: number;
  /** Compare against a baseline from another machine anyway. */
  allowOtherMachine?: boolean;
  /** Only ids matching this. */
  filter?: RegExp;
  /** The test on per-run samples (default upper-quantile, see upper-quantile-test.ts). */
  test?: GateTest;
  /**
   * Holm's correction over the compared ids (default true): the chance of any false alarm in a
   * run stays at alpha however many ids are gated. false = alpha per id.
   */
  familywise?: boolean;
}

export type Verdict = 'regression' | 'ok' | 'improved' | 'missing' | 'new';

export interface GateFinding {
  id: string;
  verdict: Verdict;
  /** Median normalised current / median normalised baseline (1 = unchanged, 0.8 = 20% slower). */
  ratio: number;
  /** One-sided Mann-Whitney p-value (current < baseline), when both sides have samples. */
  p?: number;
  method: GateTest | 'range' | 'none';
  baselineRuns: number;
  currentRuns: number;
}

export interface GateReport {
  ok: boolean;
  findings: GateFinding[];
  regressions: string[];
  threshold: number;
  alpha: number;
}

/** Why two result files cannot be compared, or undefined when they can. */
export function incompatibility(baseline: ResultsFile, current: ResultsFile, allowOtherMachine = false): string | undefined {
  if (baseline.schema !== RESULTS_SCHEMA_VERSION) {
    return `baseline has results schema ${JSON.stringify(baseline.schema)} but this mqlab writes schema ${RESULTS_SCHEMA_VERSION}; record a new baseline with this version (npm run bench -- --json baseline.json)`;
  }
  const b = baseline.machine;
  const c = current.machine;
  if (!allowOtherMachine && b && c && (b.cpuModel !== c.cpuModel || b.cpus !== c.cpus || b.arch !== c.arch || b.platform !== c.platform)) {
    return `baseline was measured on another machine (${b.cpus} x ${b.cpuModel}, ${b.platform}/${b.arch}) than this run (${c.cpus} x ${c.cpuModel}, ${c.platform}/${c.arch}); calibration ratios only compare like with like. Record the baseline on this machine type, or pass --allow-other-machine`;
  }
  return undefined;
}

/** Checks a parsed JSON value really is a results file, with a message saying what is wrong. */
export function validateResultsFile(v: unknown, source: string): ResultsFile {
  const fail = (why: string) => new Error(`${source}: not an mqlab results file: ${why}`);
  if (typeof v !== 'object' || v === null) throw fail('not a JSON object');
  const r = v as Partial<ResultsFile>;
  if (typeof r.schema !== 'number') throw fail('no "schema" version');
  if (!Array.isArray(r.results)) throw fail('no "results" array');
  for (const x of r.results) {
    if (typeof x !== 'object' || x === null || typeof (x as BenchResult).id !== 'string' || typeof (x as BenchResult).opsPerSec !== 'number') throw fail('a result without "id" and "opsPerSec"');
  }
  return r as ResultsFile;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The run-level calibration index of a file: median of its calibration.index result's samples. */
export function fileCalibration(file: ResultsFile): number | undefined {
  const c = file.results.find((r) => r.id === 'calibration.index');
  return c ? c.opsPerSec : undefined;
}

/** Per-run normalised figures of one result (samples ÷ calibration), or undefined without samples. */
export function normalisedSamples(r: BenchResult, fallbackIndex: number | undefined): number[] | undefined {
  if (!r.samples || r.samples.length === 0) return undefined;
  return r.samples.map((s, i) => {
    const c = r.calibration?.[i] ?? fallbackIndex;
    return c && c > 0 ? s / c : s;
  });
}

export function compareResults(baseline: ResultsFile, current: ResultsFile, options: GateOptions = {}): GateReport {
  const threshold = options.threshold ?? 0.1;
  const alpha = options.alpha ?? 0.05;
  const test = options.test ?? DEFAULT_GATE_TEST;
  const cb = fileCalibration(baseline);
  const cc = fileCalibration(current);
  const cur = new Map(current.results.map((r) => [r.id, r]));
  const findings: GateFinding[] = [];
  const gated = (id: string) => !id.startsWith('calibration.') && (!options.filter || options.filter.test(id));
  for (const b of baseline.results) {
    if (!gated(b.id) || !(b.opsPerSec > 0)) continue;
    const c = cur.get(b.id);
    if (!c || !(c.opsPerSec > 0)) {
      findings.push({ id: b.id, verdict: 'missing', ratio: Number.NaN, method: 'none', baselineRuns: b.runs, currentRuns: 0 });
      continue;
    }
    const bs = normalisedSamples(b, cb);
    const cs = normalisedSamples(c, cc);
    const norm = (x: number, idx: number | undefined) => (idx && idx > 0 ? x / idx : x);
    if (bs && cs && bs.length >= MIN_RUNS_FOR_TEST && cs.length >= MIN_RUNS_FOR_TEST) {
      // The ratio first; a test only where the ratio alone could make a verdict (it is the costly
      // part, and the gate report shows p for every id that got slower).
      const upper = test === 'upper-quantile';
      const ratio = upper ? quantile(cs, UPPER_Q) / quantile(bs, UPPER_Q) : median(cs) / median(bs);
      const less = (x: number[], y: number[]) => (upper ? upperQuantileLess(x, y, UPPER_Q).pLess : mannWhitneyLess(x, y).pLess);
      const pLess = ratio < 1 ? less(cs, bs) : undefined;
      const pMore = ratio > 1 + threshold ? less(bs, cs) : 1;
      const verdict: Verdict = pLess !== undefined && pLess < alpha && ratio < 1 - threshold ? 'regression' : pMore < alpha ? 'improved' : 'ok';
      const f: GateFinding = { id: b.id, verdict, ratio, method: test, baselineRuns: bs.length, currentRuns: cs.length };
      if (pLess !== undefined) f.p = pLess;
      findings.push(f);
    } else if (bs && cs) {
      // Too few runs for the test to ever reach alpha: all current runs below all baseline runs.
      const ratio = median(cs) / median(bs);
      // All current runs below all baseline runs: by exchangeability that has p = 1 / C(n+m, n).
      const below = Math.max(...cs) < Math.min(...bs);
      const p = below ? 1 / choose(bs.length + cs.length, cs.length) : 1;
      const verdict: Verdict = ratio < 1 - threshold && below && p < alpha ? 'regression' : ratio > 1 + threshold && Math.min(...cs) > Math.max(...bs) ? 'improved' : 'ok';
      findings.push({ id: b.id, verdict, ratio, p, method: 'range', baselineRuns: bs.length, currentRuns: cs.length });
    } else {
      // The calibration measured around this benchmark when it has one, else the run's.
      const ib = b.calibration?.length ? median(b.calibration) : cb;
      const ic = c.calibration?.length ? median(c.calibration) : cc;
      const ratio = norm(c.opsPerSec, ic) / norm(b.opsPerSec, ib);
      const disjointBelow = norm(c.max, ic) < norm(b.min, ib);
      const disjointAbove = norm(c.min, ic) > norm(b.max, ib);
      // Disjoint ranges = every current run below every baseline run: p = 1 / C(n+m, n) as above.
      const p = disjointBelow ? 1 / choose(b.runs + c.runs, c.runs) : 1;
      const verdict: Verdict = ratio < 1 - threshold && disjointBelow && p < alpha ? 'regression' : ratio > 1 + threshold && disjointAbove ? 'improved' : 'ok';
      findings.push({ id: b.id, verdict, ratio, p, method: 'range', baselineRuns: b.runs, currentRuns: c.runs });
    }
  }
  const known = new Set(baseline.results.map((r) => r.id));
  for (const c of current.results) {
    if (gated(c.id) && !known.has(c.id)) findings.push({ id: c.id, verdict: 'new', ratio: Number.NaN, method: 'none', baselineRuns: 0, currentRuns: c.runs });
  }
  if (options.familywise !== false) holm(findings, alpha);
  const regressions = findings.filter((f) => f.verdict === 'regression').map((f) => f.id);
  return { ok: regressions.length === 0, findings, regressions, threshold, alpha };
}

/**
 * Holm's step-down correction: of k compared ids, the one with the i-th smallest p (i from 0)
 * stays a regression only if every p up to it is below alpha / (k − i). Keeps the chance of any
 * false alarm in the whole run at alpha (a run gates tens of ids). Ids without a per-run test
 * (median/min/max only) get the exact p of their disjoint ranges.
 */
function holm(findings: GateFinding[], alpha: number): void {
  const tested = findings.filter((f) => f.method !== 'none');
  const k = tested.length;
  const ranked = tested.filter((f) => f.p !== undefined).sort((a, b) => a.p! - b.p!);
  let rejecting = true;
  ranked.forEach((f, i) => {
    if (rejecting && !(f.p! < alpha / (k - i))) rejecting = false;
    if (!rejecting && f.verdict === 'regression') f.verdict = 'ok';
  });
}

/** Plain-text gate report: one line per compared id, regressions first. */
export function formatGateReport(r: GateReport): string {
  const order: Record<Verdict, number> = { regression: 0, improved: 1, ok: 2, missing: 3, new: 4 };
  const lines = [...r.findings]
    .sort((a, b) => order[a.verdict] - order[b.verdict] || a.id.localeCompare(b.id))
    .map((f) => {
      const ratio = Number.isFinite(f.ratio) ? `${(f.ratio * 100).toFixed(1)}% of baseline` : '-';
      const p = f.p !== undefined ? ` p=${f.p.toFixed(4)}` : '';
      return `  ${f.verdict.toUpperCase().padEnd(10)} ${f.id.padEnd(52)} ${ratio.padEnd(20)}${p} [${f.method}, runs ${f.baselineRuns}→${f.currentRuns}]`;
    });
  const head = r.ok
    ? `gate: PASS (no id slower than ${(r.threshold * 100).toFixed(0)}% with p < ${r.alpha} over all ids (Holm), calibration-normalised)`
    : `gate: FAIL — ${r.regressions.length} regression(s): ${r.regressions.join(', ')}`;
  return [head, ...lines].join('\n');
}
