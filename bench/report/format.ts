/** Number formatting shared by the table, Markdown and HTML reports. */
export function fmtRate(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x >= 10 ? x.toFixed(0) : x.toFixed(2);
}

export function fmtBytes(x: number | undefined): string {
  if (!x || !Number.isFinite(x)) return '-';
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} GB/s`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)} MB/s`;
  return `${(x / 1e3).toFixed(1)} kB/s`;
}

export function fmtUs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} s`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)} ms`;
  return `${x.toFixed(1)} µs`;
}

/** Largest deviation of a run from the median, as a fraction (0.06 = runs within ±6%). */
export function spreadOf(r: { opsPerSec: number; min: number; max: number }): number {
  if (!(r.opsPerSec > 0)) return Number.NaN;
  return Math.max(r.max / r.opsPerSec - 1, 1 - r.min / r.opsPerSec);
}

/** The ±10% agreement target for repeated runs. */
export const SPREAD_TARGET = 0.1;

export function fmtSpread(r: { opsPerSec: number; min: number; max: number; runs: number }): string {
  if (r.runs < 2) return 'n/a (1 run)';
  const s = spreadOf(r);
  return Number.isFinite(s) ? `±${(s * 100).toFixed(1)}%${s <= SPREAD_TARGET ? '' : ' !'}` : '-';
}
