/**
 * One-sided permutation test on an upper quantile: is sample `a` slower than sample `b`?
 *
 * Why an upper quantile. On a shared machine the noise is one-sided: neighbours can only take
 * time away from a run, never give it some, so a benchmark's slow runs mostly measure the load
 * and its fast runs the code. The upper quartile of the (calibration-normalised) runs follows the
 * code and ignores up to a quarter of disturbed runs, where a mean or a median rank test (Mann-
 * Whitney) weighs every stalled run as evidence.
 *
 * Why a permutation test. Under "no change" the runs of both sides are exchangeable, so the
 * p-value is the share of relabellings of the pooled runs whose statistic is at least as extreme
 * as the observed one: valid whatever the distribution and whatever statistic is used. All
 * relabellings are enumerated when there are few; otherwise a fixed-seed random sample of them,
 * so the same inputs always give the same p-value.
 */
import { Rng } from '../../conformance/suites/framework/rng';

export interface UpperQuantileResult {
  /** q(a) / q(b): below 1 means `a` is slower. */
  ratio: number;
  /** Share of relabellings with a ratio ≤ the observed one (small: `a` is slower). */
  pLess: number;
}

/** The q-quantile of a sorted array, linear interpolation. */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted([...xs].sort((x, y) => x - y), q);
}

/** Number of ways to choose k of n (as a float; only compared with a limit). */
export function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

const ENUMERATE_UP_TO = 5000;

export function upperQuantileLess(a: readonly number[], b: readonly number[], q = 0.75, permutations = 2000, seed = 1): UpperQuantileResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { ratio: Number.NaN, pLess: 1 };
  const pooled = [...a, ...b].map(Math.log);
  const qa = quantile(a, q);
  const qb = quantile(b, q);
  const bufA = new Float64Array(n);
  const bufB = new Float64Array(m);
  // The statistic for one labelling (`inA[i]` says which side pooled[i] is on), on logs.
  const stat = (inA: Uint8Array): number => {
    let i = 0;
    let j = 0;
    for (let k = 0; k < pooled.length; k++) {
      if (inA[k]) bufA[i++] = pooled[k]!;
      else bufB[j++] = pooled[k]!;
    }
    bufA.sort();
    bufB.sort();
    return quantileSorted(bufA, q) - quantileSorted(bufB, q);
  };
  const eps = 1e-12;
  let atMost = 0;
  let total = 0;
  const inA = new Uint8Array(n + m);
  // The observed statistic by the same arithmetic as every relabelling (quantiles of the logs),
  // so the observed labelling always counts as at least as extreme as itself.
  inA.fill(1, 0, n);
  const observed = stat(inA);
  if (choose(n + m, n) <= ENUMERATE_UP_TO) {
    // Every subset of size n, in lexicographic order of indices.
    const idx = Array.from({ length: n }, (_, i) => i);
    for (;;) {
      inA.fill(0);
      for (const i of idx) inA[i] = 1;
      total++;
      if (stat(inA) <= observed + eps) atMost++;
      let p = n - 1;
      while (p >= 0 && idx[p] === n + m - n + p) p--;
      if (p < 0) break;
      idx[p]!++;
      for (let r = p + 1; r < n; r++) idx[r] = idx[r - 1]! + 1;
    }
    return { ratio: qa / qb, pLess: atMost / total };
  }
  const rng = new Rng(seed); // seeded: a run is repeatable
  const rnd = (): number => rng.next();
  const order = Array.from({ length: n + m }, (_, i) => i);
  for (let t = 0; t < permutations; t++) {
    // Partial Fisher-Yates: the first n of a random permutation go to side a.
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(rnd() * (n + m - i));
      const x = order[i]!;
      order[i] = order[j]!;
      order[j] = x;
    }
    inA.fill(0);
    for (let i = 0; i < n; i++) inA[order[i]!] = 1;
    if (stat(inA) <= observed + eps) atMost++;
  }
  // The observed labelling counts as one of the relabellings (keeps the test valid).
  return { ratio: qa / qb, pLess: (atMost + 1) / (permutations + 1) };
}
