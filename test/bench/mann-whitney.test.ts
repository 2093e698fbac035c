import t from 'tap';
import { mannWhitneyLess } from '../../bench/gate/mann-whitney';

t.test('exact p-values for small samples', async (t) => {
  // 5 vs 5, every a below every b: U = 0, p = 1 / C(10,5) = 1/252.
  const r = mannWhitneyLess([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  t.equal(r.u, 0);
  t.ok(Math.abs(r.pLess - 1 / 252) < 1e-12, `p = ${r.pLess}`);
  // Reverse: U = 25, p = 1.
  t.equal(mannWhitneyLess([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]).pLess, 1);
  // 3 vs 3 with one swap: U = 1, P(U ≤ 1) = 2/20.
  const s = mannWhitneyLess([1, 2, 4], [3, 5, 6]);
  t.equal(s.u, 1);
  t.ok(Math.abs(s.pLess - 2 / 20) < 1e-12, `p = ${s.pLess}`);
  // Ties count one half.
  t.equal(mannWhitneyLess([1, 2], [2, 3]).u, 0.5);
});

t.test('normal approximation for larger samples agrees with the exact test near the boundary', async (t) => {
  const a = Array.from({ length: 12 }, (_, i) => i);
  const b = Array.from({ length: 12 }, (_, i) => i + 6);
  const exact = mannWhitneyLess(a, b).pLess;
  const approx = mannWhitneyLess([...a, 100], [...b, 101]).pLess; // 13 vs 13: approximation path
  t.ok(exact < 0.05 && approx < 0.05, `exact ${exact}, approx ${approx}`);
  const same = Array.from({ length: 20 }, (_, i) => i);
  const p = mannWhitneyLess(same, same).pLess;
  t.ok(p > 0.4 && p < 0.65, `identical samples: p = ${p}`);
  t.equal(mannWhitneyLess([], [1]).pLess, 1, 'empty sample: no evidence');
});

t.test('under the null hypothesis the false-positive rate is at most alpha', async (t) => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let hits = 0;
  const trials = 2000;
  for (let i = 0; i < trials; i++) {
    const a = Array.from({ length: 5 }, rnd);
    const b = Array.from({ length: 5 }, rnd);
    if (mannWhitneyLess(a, b).pLess < 0.05) hits++;
  }
  t.ok(hits / trials <= 0.06, `false-positive rate ${(hits / trials).toFixed(3)}`);
});
