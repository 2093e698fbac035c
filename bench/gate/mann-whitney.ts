/**
 * One-sided Mann-Whitney U test: is sample `a` stochastically smaller than sample `b`?
 * Exact p-value by counting rank-sum arrangements when both samples are small (≤ 12 each, the
 * usual number of benchmark runs), normal approximation with tie correction above that.
 * Ties get mid-ranks; the exact distribution then is an approximation, as usual.
 */
export interface MannWhitneyResult {
  /** U statistic of `a` (number of (a, b) pairs with a > b, ties count ½). */
  u: number;
  /** P(U ≤ u) under the null hypothesis: small means `a` is smaller than `b`. */
  pLess: number;
}

function uOf(a: readonly number[], b: readonly number[]): number {
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  return u;
}

/** P(U ≤ k) for k = 0 … n·m under the null hypothesis, per (n, m); computed once and kept. */
const cdfCache = new Map<string, Float64Array>();

function exactCdfTable(n: number, m: number): Float64Array {
  const key = `${n},${m}`;
  const hit = cdfCache.get(key);
  if (hit) return hit;
  // f[i][j][k]: arrangements of i + j values with U = k; f(i,j,k) = f(i-1,j,k-j) + f(i,j-1,k).
  let prev: Float64Array[] = []; // prev[j] = counts for i - 1
  for (let i = 0; i <= n; i++) {
    const cur: Float64Array[] = [];
    for (let j = 0; j <= m; j++) {
      const counts = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) counts[0] = 1;
      else {
        const a = prev[j]!; // (i-1, j): shifted by j
        const b = cur[j - 1]!; // (i, j-1)
        for (let k = 0; k < counts.length; k++) counts[k] = (k - j >= 0 && k - j < a.length ? a[k - j]! : 0) + (k < b.length ? b[k]! : 0);
      }
      cur.push(counts);
    }
    prev = cur;
  }
  const counts = prev[m]!;
  let total = 0;
  for (const c of counts) total += c;
  const cdf = new Float64Array(counts.length);
  let acc = 0;
  for (let k = 0; k < counts.length; k++) {
    acc += counts[k]!;
    cdf[k] = acc / total;
  }
  cdfCache.set(key, cdf);
  return cdf;
}

function exactCdf(n: number, m: number, u: number): number {
  const cdf = exactCdfTable(n, m);
  return cdf[Math.min(cdf.length - 1, Math.floor(u + 1e-9))]!;
}

function normalCdf(z: number): number {
  // Abramowitz-Stegun 7.1.26 erf approximation (error < 1.5e-7).
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

export function mannWhitneyLess(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { u: 0, pLess: 1 };
  const u = uOf(a, b);
  if (n <= 12 && m <= 12) return { u, pLess: exactCdf(n, m, u) };
  const all = [...a, ...b].sort((x, y) => x - y);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j] === all[i]) j++;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  const N = n + m;
  const mean = (n * m) / 2;
  const sd = Math.sqrt(((n * m) / 12) * (N + 1 - tieTerm / (N * (N - 1))));
  if (sd === 0) return { u, pLess: 1 };
  return { u, pLess: normalCdf((u + 0.5 - mean) / sd) };
}
