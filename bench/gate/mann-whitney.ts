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

/** Number of ways each U value arises for sizes n, m (classic recurrence), as probabilities. */
function exactCdf(n: number, m: number, u: number): number {
  // counts[n][m][k]: arrangements with U = k. Recurrence f(n,m,k) = f(n-1,m,k-m) + f(n,m-1,k).
  const memo = new Map<string, number>();
  const f = (i: number, j: number, k: number): number => {
    if (k < 0) return 0;
    if (i === 0 || j === 0) return k === 0 ? 1 : 0;
    const key = `${i},${j},${k}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const v = f(i - 1, j, k - j) + f(i, j - 1, k);
    memo.set(key, v);
    return v;
  };
  let total = 0;
  let below = 0;
  for (let k = 0; k <= n * m; k++) {
    const c = f(n, m, k);
    total += c;
    if (k <= Math.floor(u + 1e-9)) below += c;
  }
  return below / total;
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
