/**
 * Repeatability of figures across whole invocations: the target "repeated runs of an unchanged
 * figure agree within ±10% (median of runs), reported per id".
 *
 * Input: the results files of N invocations of the same bench command (`npm run bench --
 * [args] --repeat N` makes them, or any result files given to this module's command line).
 * Per id: the median of runs of each repetition, the median of those medians, and the largest
 * deviation of one repetition's median from it (the figure the target bounds). The same for the
 * calibration-normalised median (the figure the regression gate compares), so a reader can see
 * whether a deviation was the machine (calibration moved with it) or the benchmark.
 *
 *   npx tsx bench/report/repeatability.ts A.json B.json C.json [--md OUT.md] [--json OUT.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { BenchResult, ResultsFile } from './result';
import { SPREAD_TARGET, fmtRate, spreadOf } from './format';

export interface IdRepeatability {
  id: string;
  /** Median of runs of each repetition, in repetition order (NaN where the id is missing). */
  medians: number[];
  /** Median of `medians`. */
  median: number;
  /** Largest |repetition median / median − 1|: the figure the ±10% target bounds. */
  maxDeviation: number;
  /** The same on calibration-normalised medians (undefined without calibration). */
  normalisedMaxDeviation?: number;
  /** Median over the repetitions of the within-run spread (largest run vs the run median). */
  withinRunSpread: number;
  runsPerRepetition: number;
  ok: boolean;
}

export interface RepeatabilityReport {
  createdAt: string;
  repetitions: number;
  args: string[];
  /** Load average (1, 5, 15 min) at the end of each repetition, as recorded in its file. */
  loadAverages: number[][];
  durationsSec: number[];
  target: number;
  ids: IdRepeatability[];
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Largest deviation of any value from their median, as a fraction (0.06 = within ±6%). */
export function maxDeviation(xs: readonly number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (ok.length < 2) return Number.NaN;
  const m = median(ok);
  return Math.max(...ok.map((x) => Math.abs(x / m - 1)));
}

/** The calibration-normalised median of one result: median over runs of sample ÷ calibration. */
export function normalisedMedian(r: BenchResult, fileIndex: number | undefined): number | undefined {
  if (r.samples && r.samples.length > 0 && r.calibration && r.calibration.length === r.samples.length) {
    return median(r.samples.map((s, i) => s / r.calibration![i]!));
  }
  const c = r.calibration?.length ? median(r.calibration) : fileIndex;
  return c && c > 0 ? r.opsPerSec / c : undefined;
}

export function repeatability(files: readonly ResultsFile[]): RepeatabilityReport {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    for (const r of f.results) {
      if (!seen.has(r.id)) {
        seen.add(r.id);
        order.push(r.id);
      }
    }
  }
  const ids: IdRepeatability[] = [];
  for (const id of order) {
    const rs = files.map((f) => f.results.find((r) => r.id === id));
    const medians = rs.map((r) => (r && r.opsPerSec > 0 ? r.opsPerSec : Number.NaN));
    const norm = rs.map((r, i) => {
      if (!r || !(r.opsPerSec > 0) || id.startsWith('calibration.')) return Number.NaN;
      const idx = files[i]!.results.find((x) => x.id === 'calibration.index')?.opsPerSec;
      return normalisedMedian(r, idx) ?? Number.NaN;
    });
    const dev = maxDeviation(medians);
    const ndev = maxDeviation(norm);
    const item: IdRepeatability = {
      id,
      medians,
      median: median(medians),
      maxDeviation: dev,
      withinRunSpread: median(rs.map((r) => (r && r.runs >= 2 ? spreadOf(r) : Number.NaN))),
      runsPerRepetition: Math.max(0, ...rs.map((r) => r?.runs ?? 0)),
      ok: Number.isFinite(dev) && dev <= SPREAD_TARGET,
    };
    if (Number.isFinite(ndev)) item.normalisedMaxDeviation = ndev;
    ids.push(item);
  }
  return {
    createdAt: new Date().toISOString(),
    repetitions: files.length,
    args: files[0]?.run?.args ?? [],
    loadAverages: files.map((f) => f.run?.loadAverageEnd ?? []),
    durationsSec: files.map((f) => f.run?.durationSec ?? Number.NaN),
    target: SPREAD_TARGET,
    ids,
  };
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `±${(x * 100).toFixed(1)}%`);

export function repeatabilityMarkdown(r: RepeatabilityReport): string {
  const out: string[] = [];
  const loads = r.loadAverages.map((l) => (l.length ? l[0]!.toFixed(1) : '?')).join(', ');
  out.push(`Repeatability: ${r.repetitions} invocations of \`npm run bench -- ${r.args.join(' ')}\`, ${r.durationsSec.map((d) => `${Math.round(d)} s`).join(' / ')}; load average (1 min) at the end of each: ${loads || 'not recorded'}.`, '');
  out.push(`| id | median of runs, per invocation | median | max deviation (target ±${(r.target * 100).toFixed(0)}%) | normalised | within one run |`);
  out.push('|---|---|---:|---:|---:|---:|');
  for (const x of r.ids) {
    const status = Number.isFinite(x.maxDeviation) ? (x.ok ? ' ok' : ' over') : '';
    out.push(`| \`${x.id}\` | ${x.medians.map((m) => fmtRate(m)).join(' · ')} | ${fmtRate(x.median)} | ${pct(x.maxDeviation)}${status} | ${pct(x.normalisedMaxDeviation)} | ${pct(x.withinRunSpread)} |`);
  }
  return `${out.join('\n')}\n`;
}

function readFile(file: string): ResultsFile {
  return JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const files: string[] = [];
  let md: string | undefined;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--md') md = argv[++i];
    else if (argv[i] === '--json') json = argv[++i];
    else files.push(argv[i]!);
  }
  if (files.length < 2) {
    process.stderr.write('usage: npx tsx bench/report/repeatability.ts A.json B.json [...] [--md OUT.md] [--json OUT.json]\n');
    process.exit(2);
  }
  const report = repeatability(files.map(readFile));
  const text = repeatabilityMarkdown(report);
  process.stdout.write(text);
  if (md) writeFileSync(md, text);
  if (json) writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
  process.stderr.write(`load average now: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
}
