import t from 'tap';
import { murmur2, partitionForKey } from '../../core/kafka/murmur2';
import { StickyPartitioner } from '../../core/kafka/partitioner';

t.test('murmur2 matches the Java client (Kafka UtilsTest vectors)', async (t) => {
  // Expected values from Apache Kafka's clients UtilsTest#testMurmur2.
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ];
  for (const [s, expected] of cases) t.equal(murmur2(Buffer.from(s)), expected, s);
  t.equal(murmur2(Buffer.from([97, 98, 99])), murmur2(new Uint8Array([97, 98, 99])), 'Buffer and Uint8Array agree');
});

t.test('same key, same partition; keys spread', async (t) => {
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const key = Buffer.from(`user-${i}`);
    const p = partitionForKey(key, 12);
    t.ok(p >= 0 && p < 12);
    t.equal(partitionForKey(Buffer.from(`user-${i}`), 12), p);
    seen.add(p);
  }
  t.equal(seen.size, 12, 'every partition gets some of 200 keys');
});

t.test('sticky partitioner moves on after the batch size', async (t) => {
  const sp = new StickyPartitioner(1000);
  const first = sp.forKeyless('t', 3, 100);
  for (let i = 0; i < 9; i++) t.equal(sp.forKeyless('t', 3, 100), first, 'sticks while under 1000 bytes');
  const second = sp.forKeyless('t', 3, 100);
  t.not(second, first, 'moves on once 1000 bytes went to it');
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[sp.forKeyless('t', 3, 100)]!++;
  for (const c of counts) t.ok(c >= 900 && c <= 1100, `even spread over time (${counts.join(',')})`);
});
