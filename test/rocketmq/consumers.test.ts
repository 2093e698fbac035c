import t from 'tap';
import type { Test } from 'tap';
import { Message, Producer, PushConsumer, type MessageExt } from '../../core/rocketmq';
import { openCluster, tempDir, waitFor } from './helpers';

type Ctx = ReturnType<typeof openCluster>;

function consumer(t: Test, ctx: Ctx, opts: Partial<ConstructorParameters<typeof PushConsumer>[0]> & { group: string }, sink: Array<{ who: string; m: MessageExt }>, who: string, expr = '*') {
  const c = new PushConsumer({ transport: ctx.cluster.transport, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', pollTimeoutMs: 200, rebalanceIntervalMs: 100, instanceName: who, clock: () => ctx.clock.now, ...opts });
  c.subscribe('T', expr);
  c.registerMessageListener((msgs) => {
    for (const m of msgs) sink.push({ who, m });
    return 'CONSUME_SUCCESS';
  });
  t.teardown(() => c.shutdown());
  return c;
}

async function producerOf(ctx: Ctx) {
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  return p;
}

t.test('CLUSTERING: queues split across members, each message once, rebalance on join and leave without loss', async (t) => {
  const ctx = openCluster(t, { brokerNames: ['broker-a', 'broker-b'] });
  ctx.cluster.createTopic('T', 4);
  const p = await producerOf(ctx);
  const got: Array<{ who: string; m: MessageExt }> = [];
  const c1 = consumer(t, ctx, { group: 'g' }, got, 'c1');
  const c2 = consumer(t, ctx, { group: 'g' }, got, 'c2');
  await c1.start();
  await c2.start();
  await waitFor(() => c1.allocatedQueues().filter((q) => q.topic === 'T').length === 4 && c2.allocatedQueues().filter((q) => q.topic === 'T').length === 4, 5000, 'even split');
  let sent = 0;
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) await p.send(new Message('T', 'A', `k${sent}`, `m${sent++}`));
  };
  await send(40);
  await waitFor(() => got.length >= 40, 5000, '40 deliveries');
  t.ok(got.some((g) => g.who === 'c1') && got.some((g) => g.who === 'c2'), 'both members consume');
  const c3 = consumer(t, ctx, { group: 'g' }, got, 'c3');
  await c3.start();
  await waitFor(() => c3.allocatedQueues().filter((q) => q.topic === 'T').length > 0, 5000, 'c3 gets queues');
  await send(40);
  await c1.shutdown();
  await send(40);
  await waitFor(() => new Set(got.map((g) => g.m.body.toString())).size === 120, 8000, 'all 120 delivered');
  const bodies = got.map((g) => g.m.body.toString());
  t.equal(new Set(bodies).size, 120, 'nothing lost');
  t.equal(bodies.length, 120, 'nothing delivered twice (clean rebalances)');
  const owners = new Map<string, Set<string>>();
  for (const g of got) {
    const k = `${g.m.brokerName}/${g.m.queueId}`;
    if (!owners.has(k)) owners.set(k, new Set());
    owners.get(k)!.add(g.who);
  }
  t.equal(owners.size, 8);
  // Per queue, offsets are delivered in order.
  const perQueue = new Map<string, number[]>();
  for (const g of got) {
    const k = `${g.m.brokerName}/${g.m.queueId}`;
    perQueue.set(k, [...(perQueue.get(k) ?? []), g.m.queueOffset]);
  }
  for (const offs of perQueue.values()) t.same(offs, offs.map((_, i) => i), 'contiguous, in order');
  const offsets = ctx.cluster.broker('broker-a').consumerOffsets('g');
  t.same(offsets['T'], [15, 15, 15, 15], 'broker stored the next offset of every queue');
});

t.test('BROADCASTING: every instance gets every message, and resumes from its own offsets', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 2);
  const dir = tempDir(t);
  const p = await producerOf(ctx);
  const got: Array<{ who: string; m: MessageExt }> = [];
  const b1 = consumer(t, ctx, { group: 'bg', messageModel: 'BROADCASTING', offsetStoreDir: dir }, got, 'b1');
  const b2 = consumer(t, ctx, { group: 'bg', messageModel: 'BROADCASTING', offsetStoreDir: dir }, got, 'b2');
  await b1.start();
  await b2.start();
  for (let i = 0; i < 10; i++) await p.send(new Message('T', `m${i}`));
  await waitFor(() => got.length === 20, 5000, 'both got all ten');
  t.equal(got.filter((g) => g.who === 'b1').length, 10);
  t.equal(got.filter((g) => g.who === 'b2').length, 10);
  await b1.shutdown();
  for (let i = 10; i < 15; i++) await p.send(new Message('T', `m${i}`));
  await waitFor(() => got.length === 25, 5000, 'b2 got five more');
  const again: Array<{ who: string; m: MessageExt }> = [];
  const b1b = consumer(t, ctx, { group: 'bg', messageModel: 'BROADCASTING', offsetStoreDir: dir }, again, 'b1');
  await b1b.start();
  await waitFor(() => again.length === 5, 5000, 'b1 resumed with the five it missed');
  t.same(again.map((g) => g.m.body.toString()).sort(), ['m10', 'm11', 'm12', 'm13', 'm14']);
});

t.test('tag subscription: no leak, offsets advance past skipped messages', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 1);
  const p = await producerOf(ctx);
  const got: Array<{ who: string; m: MessageExt }> = [];
  const c = consumer(t, ctx, { group: 'tg' }, got, 'c', 'A || C');
  await c.start();
  for (const tag of ['A', 'B', 'C', 'B', 'A', 'D']) await p.send(new Message('T', tag, tag));
  await waitFor(() => got.length === 3, 5000);
  await waitFor(() => ctx.cluster.broker().consumerOffsets('tg')['T']?.[0] === 6, 5000, 'offset at the end');
  t.same(got.map((g) => g.m.tags), ['A', 'C', 'A']);
});

t.test('consume from last / first / timestamp for a new group', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 1);
  const p = await producerOf(ctx);
  await p.send(new Message('T', 'old-1'));
  ctx.clock.now += 60_000;
  const mid = ctx.clock.now;
  await p.send(new Message('T', 'old-2'));
  const run = async (group: string, opts: Partial<ConstructorParameters<typeof PushConsumer>[0]>) => {
    const got: Array<{ who: string; m: MessageExt }> = [];
    const c = consumer(t, ctx, { group, ...opts }, got, group);
    await c.start();
    await p.send(new Message('T', `new-${group}`));
    await waitFor(() => got.some((g) => g.m.body.toString() === `new-${group}`), 5000);
    await c.shutdown();
    return got.map((g) => g.m.body.toString()).filter((b) => !b.startsWith('new-') || b === `new-${group}`);
  };
  t.same(await run('first', { consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }), ['old-1', 'old-2', 'new-first']);
  t.same(await run('last', { consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET' }), ['new-last']);
  const ts = await run('ts', { consumeFromWhere: 'CONSUME_FROM_TIMESTAMP', consumeTimestamp: mid });
  t.same(ts.filter((b) => b.startsWith('old')), ['old-2']);
});

t.test('RECONSUME_LATER: retry topic with growing reconsumeTimes and delay levels, then the DLQ', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 1);
  const p = await producerOf(ctx);
  const attempts: Array<{ times: number; at: number; topic: string }> = [];
  const c = new PushConsumer({ group: 'rg', transport: ctx.cluster.transport, maxReconsumeTimes: 3, pollTimeoutMs: 200, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', instanceName: 'r' });
  c.subscribe('T', '*');
  c.registerMessageListener((msgs) => {
    for (const m of msgs) attempts.push({ times: m.reconsumeTimes, at: ctx.clock.now, topic: m.topic });
    return 'RECONSUME_LATER';
  });
  t.teardown(() => c.shutdown());
  await c.start();
  const sent = await p.send(new Message('T', 'TagA', 'key-1', 'fails'));
  await waitFor(() => attempts.length === 1);
  // Level 3 + reconsumeTimes: 10 s, 30 s, 1 min.
  for (const [i, wait] of [[1, 10_000], [2, 30_000], [3, 60_000]] as const) {
    ctx.clock.now += wait - 1;
    ctx.cluster.tick();
    await new Promise((r) => setTimeout(r, 50));
    t.equal(attempts.length, i, `not redelivered before level ${3 + i - 1}`);
    ctx.clock.now += 1;
    ctx.cluster.tick();
    await waitFor(() => attempts.length === i + 1, 5000, `attempt ${i + 1}`);
  }
  t.same(attempts.map((a) => a.times), [0, 1, 2, 3]);
  t.same(attempts.map((a) => a.topic), ['T', 'T', 'T', 'T'], 'the listener sees the original topic');
  await waitFor(() => { try { return ctx.cluster.broker().getMaxOffset('%DLQ%rg', 0) === 1; } catch { return false; } }, 5000, 'DLQ message');
  const broker = ctx.cluster.broker();
  const dlq = broker.pullMessage({ group: 'inspect', topic: '%DLQ%rg', queueId: 0, queueOffset: 0, maxMsgNums: 10 }) as { msgFoundList: MessageExt[] };
  t.equal(dlq.msgFoundList.length, 1);
  const d = dlq.msgFoundList[0]!;
  t.equal(d.body.toString(), 'fails');
  t.equal(d.properties['RETRY_TOPIC'], 'T');
  t.equal(d.properties['ORIGIN_MESSAGE_ID'], sent.msgId);
  t.equal(d.tags, 'TagA');
  ctx.clock.now += 3_600_000;
  ctx.cluster.tick();
  await new Promise((r) => setTimeout(r, 100));
  t.equal(attempts.length, 4, 'no delivery after the DLQ');
});

t.test('delayed message: not before its level', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 1);
  const p = await producerOf(ctx);
  const got: Array<{ who: string; m: MessageExt }> = [];
  const c = consumer(t, ctx, { group: 'dg' }, got, 'd');
  await c.start();
  const sentAt = ctx.clock.now;
  await p.send({ topic: 'T', body: 'later', tags: 'X', delayTimeLevel: 4 }); // 30 s
  await p.send({ topic: 'T', body: 'now' });
  await waitFor(() => got.length === 1);
  ctx.clock.now = sentAt + 29_999;
  ctx.cluster.tick();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(got.length, 1, 'still waiting at 29.999 s');
  ctx.clock.now = sentAt + 30_000;
  ctx.cluster.tick();
  await waitFor(() => got.length === 2);
  const m = got[1]!.m;
  t.equal(m.body.toString(), 'later');
  t.equal(m.topic, 'T');
  t.equal(m.tags, 'X');
  t.ok(m.storeTimestamp >= sentAt + 30_000, 'stored on its topic when due');
  t.equal(m.properties['REAL_TOPIC'], undefined);
});

t.test('orderly listener: one queue in order, a suspended message blocks the queue until it succeeds', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 2);
  const p = await producerOf(ctx);
  const seen: string[] = [];
  let failOnce = true;
  const c = new PushConsumer({ group: 'og', transport: ctx.cluster.transport, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', suspendCurrentQueueTimeMillis: 10, pollTimeoutMs: 200 });
  c.subscribe('T', '*');
  c.registerMessageListenerOrderly((msgs) => {
    const b = msgs[0]!.body.toString();
    if (b === 'o-2' && failOnce) {
      failOnce = false;
      return 'SUSPEND_CURRENT_QUEUE_A_MOMENT';
    }
    seen.push(`${b}@${msgs[0]!.reconsumeTimes}`);
    return 'SUCCESS';
  });
  t.teardown(() => c.shutdown());
  const mq = { topic: 'T', brokerName: 'broker-a', queueId: 1 };
  for (let i = 0; i < 5; i++) await p.send(new Message('T', `o-${i}`), mq);
  await c.start();
  await waitFor(() => seen.length === 5);
  t.same(seen, ['o-0@0', 'o-1@0', 'o-2@1', 'o-3@0', 'o-4@0']);
});
