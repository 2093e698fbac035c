import t from 'tap';
import type { Consumer, ConsumerRecord } from '../../core/kafka';
import { openEngine, str } from './helpers';

async function pollAll(consumers: Consumer[], rounds = 6): Promise<Map<Consumer, ConsumerRecord[]>> {
  const got = new Map<Consumer, ConsumerRecord[]>(consumers.map((c) => [c, []]));
  for (let i = 0; i < rounds; i++) for (const c of consumers) got.get(c)!.push(...(await c.poll(0, 1000)));
  return got;
}

t.test('group members split the partitions; distinct groups each see every record', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('orders', { numPartitions: 6 });
  const opts = { groupId: 'billing', autoOffsetReset: 'earliest' as const, autoCommit: false };
  const a = engine.consumer({ ...opts, clientId: 'a' });
  const b = engine.consumer({ ...opts, clientId: 'b', partitionAssignors: ['roundrobin', 'range'] });
  const other = engine.consumer({ groupId: 'audit', autoOffsetReset: 'earliest' });
  for (const c of [a, b, other]) c.subscribe(['orders']);
  await pollAll([a, b, other], 2);
  const pa = a.assignment().map((x) => x.partition);
  const pb = b.assignment().map((x) => x.partition);
  t.same([...pa, ...pb].sort(), [0, 1, 2, 3, 4, 5], 'each partition to exactly one member');
  t.equal(pa.length, 3);
  t.equal(other.assignment().length, 6);
  t.equal(engine.coordinator.describe('billing').protocol, 'range', 'first assignor every member supports, in the leader\'s order');
  await engine.producer().send({ topic: 'orders', messages: Array.from({ length: 120 }, (_, i) => ({ key: `k${i}`, value: String(i) })) });
  const got = await pollAll([a, b, other]);
  const ids = (rs: ConsumerRecord[]) => rs.map((r) => Number(str(r.value))).sort((x, y) => x - y);
  t.same(ids([...got.get(a)!, ...got.get(b)!]), Array.from({ length: 120 }, (_, i) => i), 'the group sees every record once');
  t.same(ids(got.get(other)!), Array.from({ length: 120 }, (_, i) => i), 'another group sees every record too');
  for (const r of got.get(a)!) t.ok(pa.includes(r.partition), 'a reads only its partitions');
});

t.test('rebalance on leave and on session timeout, without loss; stale commits refused', async (t) => {
  const { engine, clock } = openEngine(t);
  engine.createTopic('jobs', { numPartitions: 4 });
  const opts = { groupId: 'workers', autoOffsetReset: 'earliest' as const, autoCommit: false, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000 };
  const a = engine.consumer(opts);
  const b = engine.consumer(opts);
  const c = engine.consumer(opts);
  for (const x of [a, b, c]) x.subscribe('jobs');
  await pollAll([a, b, c], 2);
  t.same([a, b, c].map((x) => x.assignment().length).sort(), [1, 1, 2]);
  const p = engine.producer();
  await p.send({ topic: 'jobs', messages: Array.from({ length: 40 }, (_, i) => ({ value: String(i), partition: i % 4 })) });
  const seen: number[] = [];
  const round1 = await pollAll([a, b, c], 1);
  for (const rs of round1.values()) seen.push(...rs.map((r) => Number(str(r.value))));
  await a.commit();
  await b.commit();
  const cGen = c.membership().generation;
  const cParts = c.assignment();
  // c crashes (no commit, no leave). a and b keep polling; after 10 s c is expired.
  c.abandon();
  const redelivered: number[] = [];
  for (let i = 0; i < 4; i++) {
    clock.now += 4000;
    for (const rs of (await pollAll([a, b], 1)).values()) redelivered.push(...rs.map((r) => Number(str(r.value))));
  }
  t.same([...a.assignment(), ...b.assignment()].map((x) => x.partition).sort(), [0, 1, 2, 3], 'c\'s partitions moved to the survivors');
  t.throws(() => engine.coordinator.validateCommit('workers', c.membership().memberId, cGen, cParts), { code: 'UNKNOWN_MEMBER_ID' }, 'the crashed member cannot commit any more');
  const after = await pollAll([a, b], 2);
  for (const rs of after.values()) redelivered.push(...rs.map((r) => Number(str(r.value))));
  t.same([...new Set([...seen, ...redelivered])].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i), 'nothing lost');
  const cRecords = round1.get(c)!.map((r) => Number(str(r.value)));
  t.ok(cRecords.every((v) => redelivered.includes(v)), 'c\'s uncommitted records are delivered again');
  // b leaves cleanly; a takes all four.
  const bGen = b.membership().generation;
  const bParts = b.assignment();
  await b.close();
  await a.poll();
  t.equal(a.assignment().length, 4);
  t.throws(() => engine.coordinator.validateCommit('workers', a.membership().memberId, bGen, bParts), { code: 'ILLEGAL_GENERATION' });
});

t.test('a member whose generation is stale gets ILLEGAL_GENERATION on commit', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('g', { numPartitions: 2 });
  const opts = { groupId: 'gg', autoOffsetReset: 'earliest' as const, autoCommit: false };
  const a = engine.consumer(opts);
  a.subscribe('g');
  await a.poll();
  const b = engine.consumer(opts);
  b.subscribe('g');
  await b.poll(); // starts a rebalance
  await a.poll(); // a rejoins (gives up its partitions); the group completes
  await b.poll();
  t.equal(a.assignment().length, 1);
  await t.rejects(a.commit([{ topic: 'g', partition: b.assignment()[0]!.partition, offset: 0 }]), { code: 'ILLEGAL_GENERATION' }, 'partition owned by b');
  await t.resolves(a.commit([{ topic: 'g', partition: a.assignment()[0]!.partition, offset: 0 }]));
});

t.test('sticky assignor keeps partitions across a rebalance', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('s', { numPartitions: 6 });
  const opts = { groupId: 'st', autoOffsetReset: 'earliest' as const, partitionAssignors: ['sticky' as const] };
  const a = engine.consumer(opts);
  const b = engine.consumer(opts);
  a.subscribe('s');
  b.subscribe('s');
  await pollAll([a, b], 2);
  const before = a.assignment().map((x) => x.partition);
  const c = engine.consumer(opts);
  c.subscribe('s');
  await pollAll([c, a, b, c], 2);
  const after = a.assignment().map((x) => x.partition);
  t.equal(after.length, 2);
  t.ok(after.every((p) => before.includes(p)), 'a kept two of its three partitions');
});
