/** The gate's default test: one-sided permutation test on the upper quartile. */
import t from 'tap';
import { quantile, upperQuantileLess } from '../../bench/gate/upper-quantile-test';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

t.test('quantile interpolates', async (t) => {
  t.equal(quantile([1, 2, 3, 4, 5], 0.75), 4);
  t.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
  t.equal(quantile([7], 0.75), 7);
});

t.test('all of a below all of b: significant even with 5 runs a side', async (t) => {
  const r = upperQuantileLess([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  t.ok(r.ratio < 1);
  // C(10,5) = 252 labellings, enumerated; the upper quartile of 5 runs depends on the top two
  // only, so 4 labellings tie with the observed one: p = 4/252.
  t.equal(r.pLess, 4 / 252);
  const same = upperQuantileLess([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]);
  t.ok(same.pLess > 0.9, 'the other way round is no evidence of a slowdown');
});

t.test('deterministic: the same runs give the same p (random relabellings use a fixed seed)', async (t) => {
  const rnd = prng(3);
  const a = Array.from({ length: 12 }, () => 100 + rnd() * 20);
  const b = Array.from({ length: 12 }, () => 105 + rnd() * 20);
  t.equal(upperQuantileLess(a, b).pLess, upperQuantileLess(a, b).pLess);
});

t.test('under no change the false-positive rate is at most alpha, with stalls in the runs', async (t) => {
  const rnd = prng(11);
  // One-sided noise: most runs near the code's speed, a quarter slowed by up to 60% (neighbours).
  const run = () => 100 * (1 - 0.03 * rnd()) * (rnd() < 0.25 ? 0.4 + 0.6 * rnd() : 1);
  let fp = 0;
  const trials = 300;
  for (let i = 0; i < trials; i++) {
    const a = Array.from({ length: 7 }, run);
    const b = Array.from({ length: 7 }, run);
    if (upperQuantileLess(a, b).pLess < 0.05) fp++;
  }
  t.ok(fp / trials <= 0.07, `false-positive rate ${(fp / trials).toFixed(3)} (alpha 0.05)`);
});
