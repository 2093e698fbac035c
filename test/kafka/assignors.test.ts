import t, { type Test } from 'tap';
import { rangeAssign, roundRobinAssign, stickyAssign, type AssignorMember, type Assignment } from '../../core/kafka/assignors';

const members = (n: number, topics: string[]): AssignorMember[] => Array.from({ length: n }, (_, i) => ({ memberId: `m${i}`, topics, owned: [] }));
const flat = (a: Assignment) => [...a.values()].flat().map((tp) => `${tp.topic}-${tp.partition}`);
const fmt = (a: Assignment) => Object.fromEntries([...a].map(([m, tps]) => [m, tps.map((tp) => `${tp.topic}-${tp.partition}`).join(' ')]));

function eachPartitionOnce(t: Test, a: Assignment, parts: Map<string, number>) {
  const got = flat(a).sort();
  const want: string[] = [];
  for (const [topic, n] of parts) for (let p = 0; p < n; p++) want.push(`${topic}-${p}`);
  t.same(got, want.sort(), 'every partition assigned exactly once');
}

t.test('range: consecutive ranges per topic, first members get the extra', async (t) => {
  const parts = new Map([['a', 7], ['b', 2]]);
  const a = rangeAssign(members(3, ['a', 'b']), parts);
  t.same(fmt(a), { m0: 'a-0 a-1 a-2 b-0', m1: 'a-3 a-4 b-1', m2: 'a-5 a-6' });
  eachPartitionOnce(t, a, parts);
});

t.test('round-robin: dealt in turn over all partitions', async (t) => {
  const parts = new Map([['a', 3], ['b', 3]]);
  const a = roundRobinAssign(members(2, ['a', 'b']), parts);
  t.same(fmt(a), { m0: 'a-0 a-2 b-1', m1: 'a-1 b-0 b-2' });
  eachPartitionOnce(t, a, parts);
});

t.test('only subscribed members get a topic', async (t) => {
  const parts = new Map([['a', 4], ['b', 2]]);
  const ms: AssignorMember[] = [{ memberId: 'm0', topics: ['a'], owned: [] }, { memberId: 'm1', topics: ['a', 'b'], owned: [] }];
  for (const assign of [rangeAssign, roundRobinAssign, stickyAssign]) {
    const a = assign(ms, parts);
    eachPartitionOnce(t, a, parts);
    t.notOk(a.get('m0')!.some((tp) => tp.topic === 'b'), `${assign.name}: m0 gets no b`);
  }
});

t.test('sticky: balanced, and keeps what members owned', async (t) => {
  const parts = new Map([['a', 6]]);
  const first = stickyAssign(members(2, ['a']), parts);
  eachPartitionOnce(t, first, parts);
  t.same([...first.values()].map((l) => l.length), [3, 3]);
  // A third member joins: each old member gives up exactly one partition and keeps two.
  const ms: AssignorMember[] = [
    { memberId: 'm0', topics: ['a'], owned: first.get('m0')! },
    { memberId: 'm1', topics: ['a'], owned: first.get('m1')! },
    { memberId: 'm2', topics: ['a'], owned: [] },
  ];
  const second = stickyAssign(ms, parts);
  eachPartitionOnce(t, second, parts);
  t.same([...second.values()].map((l) => l.length), [2, 2, 2]);
  for (const m of ['m0', 'm1']) {
    const kept = second.get(m)!.filter((tp) => first.get(m)!.some((o) => o.partition === tp.partition));
    t.equal(kept.length, 2, `${m} keeps two of its partitions`);
  }
  // Property: for many sizes, each partition exactly once and loads differ by at most one.
  for (let n = 1; n <= 6; n++) {
    for (let p = 0; p <= 13; p++) {
      const pp = new Map([['x', p]]);
      const a = stickyAssign(members(n, ['x']), pp);
      const loads = [...a.values()].map((l) => l.length);
      if (flat(a).length !== p || Math.max(...loads) - Math.min(...loads) > 1) t.fail(`unbalanced for ${n} members ${p} partitions: ${loads}`);
    }
  }
});
