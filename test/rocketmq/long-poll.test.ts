import t from 'tap';
import { Producer, type PullResult } from '../../core/rocketmq';
import { openCluster } from './helpers';

// The broker's held pulls (PullRequestHoldService): answered by the dispatcher when their queue
// gets an entry, or by one shared timer when their suspend time is over; and the in-memory cache
// of recent ConsumeQueue entries that scans read when the consumer keeps up.

const GROUP = 'lp-group';

function pull(broker: ReturnType<ReturnType<typeof openCluster>['cluster']['broker']>, queueId: number, queueOffset: number, suspendMs: number, maxMsgNums = 32, subExpression = '*') {
  return broker.pullMessage({ group: GROUP, topic: 'LP', queueId, queueOffset, maxMsgNums, subExpression, suspendMs });
}

t.test('a held pull is answered by the put that fills its queue, not by its timer', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('LP', 2);
  const broker = cluster.broker();
  const producer = new Producer({ group: 'p', transport: cluster.transport });
  await producer.start();
  const held = pull(broker, 1, 0, 60_000);
  t.ok(held instanceof Promise, 'a pull at the end of its queue waits');
  const other = pull(broker, 0, 0, 60_000);
  const t0 = performance.now();
  const sent = await producer.send({ topic: 'LP', body: 'hello' }, { topic: 'LP', brokerName: 'broker-a', queueId: 1 });
  const res = await held;
  t.ok(performance.now() - t0 < 5_000, 'answered long before its 60 s suspend time');
  t.equal(res.pullStatus, 'FOUND');
  t.equal(res.msgFoundList.length, 1);
  t.equal(res.msgFoundList[0]!.msgId, sent.msgId, 'the message just sent');
  t.equal(res.nextBeginOffset, 1);
  // The pull on the other queue is still held: shutdown answers it.
  let otherDone = false;
  void (other as Promise<PullResult>).then(() => (otherDone = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(otherDone, 'a pull on another queue stays held');
  cluster.stopBroker('broker-a');
  const o = await other;
  t.equal(o.pullStatus, 'NO_NEW_MSG', 'shutdown answers a held pull with what there is');
  t.equal(o.nextBeginOffset, 0);
});

t.test('held pulls with different suspend times each expire on time (one timer, re-armed)', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('LP', 3);
  const broker = cluster.broker();
  const t0 = performance.now();
  const long = pull(broker, 0, 0, 400) as Promise<PullResult>;
  const short = pull(broker, 1, 0, 40) as Promise<PullResult>;
  const mid = pull(broker, 2, 0, 150) as Promise<PullResult>;
  const at: Record<string, number> = {};
  const results = await Promise.all([
    long.then((r) => ((at.long = performance.now() - t0), r)),
    short.then((r) => ((at.short = performance.now() - t0), r)),
    mid.then((r) => ((at.mid = performance.now() - t0), r)),
  ]);
  for (const r of results) t.equal(r.pullStatus, 'NO_NEW_MSG');
  t.ok(at.short! >= 39, `the 40 ms pull answered at ${at.short!.toFixed(1)} ms, not before`);
  t.ok(at.mid! >= 149, `the 150 ms pull answered at ${at.mid!.toFixed(1)} ms, not before`);
  t.ok(at.long! >= 399, `the 400 ms pull answered at ${at.long!.toFixed(1)} ms, not before`);
  t.ok(at.short! < at.mid! && at.mid! < at.long!, 'in deadline order: a shorter pull held after a longer one re-arms the timer');
});

t.test('scans read the same entries from the in-memory cache and from the ConsumeQueue file', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('LP', 1);
  const producer = new Producer({ group: 'p', transport: cluster.transport });
  await producer.start();
  // More than the cache holds (the newest 1024 entries), tagged A / B alternately.
  const total = 5000;
  for (let i = 0; i < total; i += 100) {
    await producer.send(Array.from({ length: 100 }, (_, j) => ({ topic: 'LP', tags: (i + j) % 2 ? 'B' : 'A', body: `m${i + j}` })));
  }
  cluster.dispatchNow();
  const read = async (offset: number, n: number, sub = '*') => {
    const r = await pull(cluster.broker(), 0, offset, n, n, sub);
    return { next: r.nextBeginOffset, bodies: r.msgFoundList.map((m) => m.body.toString()), offsets: r.msgFoundList.map((m) => m.queueOffset) };
  };
  const expectBodies = (from: number, n: number, step = 1) => Array.from({ length: n }, (_, k) => `m${from + k * step}`);
  // Old entries (outside the cache window) come from the file, recent ones from the cache.
  t.same((await read(0, 10)).bodies, expectBodies(0, 10), 'from the file');
  t.same((await read(4990, 10)).bodies, expectBodies(4990, 10), 'from the cache');
  t.same((await read(3950, 100)).bodies, expectBodies(3950, 100), 'across the start of the cache window (entry 3976)');
  const b = await read(4900, 20, 'B');
  t.same(b.bodies, expectBodies(4901, 20, 2), 'tag filter on cached entries');
  t.equal(b.next, 4940, 'skipped entries still advance the next offset');
  const a = await read(10, 5, 'A');
  t.same(a.bodies, expectBodies(10, 5, 2), 'tag filter on entries read from the file');
  // After a restart the cache is empty: everything comes from the file, unchanged.
  cluster.restartBroker('broker-a');
  const after = await read(4990, 10);
  t.same(after.bodies, expectBodies(4990, 10), 'after a restart, from the file');
  t.same(after.offsets, Array.from({ length: 10 }, (_, k) => 4990 + k));
  // New messages after the restart are cached again and follow on.
  const sent = await producer.send({ topic: 'LP', body: 'late' });
  cluster.dispatchNow();
  t.equal(sent.queueOffset, total);
  t.same((await read(total - 1, 5)).bodies, [`m${total - 1}`, 'late']);
});
