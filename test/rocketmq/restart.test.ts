import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { Message, Producer, PullConsumer, PushConsumer, type MessageQueue } from '../../core/rocketmq';
import { openCluster, waitFor } from './helpers';

async function fill(ctx: ReturnType<typeof openCluster>, n: number, from = 0) {
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  for (let i = from; i < from + n; i++) await p.send(new Message('T', i % 2 ? 'A' : 'B', `key-${i}`, `m${i}`));
}

async function readAll(ctx: ReturnType<typeof openCluster>): Promise<string[]> {
  const c = new PullConsumer({ group: 'reader', transport: ctx.cluster.transport });
  await c.start();
  const out: string[] = [];
  for (const mq of await c.fetchSubscribeMessageQueues('T')) {
    const res = await c.pull(mq, '*', 0, 1000);
    out.push(...res.msgFoundList.map((m) => m.body.toString()));
  }
  return out.sort();
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`).sort();

t.test('CommitLog, ConsumeQueues, offsets and key index survive a restart', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 4);
  await fill(ctx, 20);
  const c = new PullConsumer({ group: 'g', transport: ctx.cluster.transport });
  await c.start();
  const mq: MessageQueue = { topic: 'T', brokerName: 'broker-a', queueId: 2 };
  await c.updateConsumeOffset(mq, 3);
  ctx.cluster.restartBroker();
  const b = ctx.cluster.broker();
  t.equal(b.recovery.fromCheckpoint, true);
  t.equal(b.recovery.rebuilt, false);
  t.equal(await c.fetchConsumeOffset(mq), 3, 'group offset kept by the broker');
  t.same(await readAll(ctx), expected(20));
  t.same((await c.queryMessage('T', 'key-7')).map((m) => m.body.toString()), ['m7'], 'key index reopened');
  await fill(ctx, 4, 20);
  b.dispatchNow();
  t.equal(b.getMaxOffset('T', 0), 6, 'queue offsets continue after the restart');
});

t.test('a lost ConsumeQueue is rebuilt from the CommitLog', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 4);
  await fill(ctx, 24);
  ctx.cluster.stopBroker('broker-a');
  fs.rmSync(path.join(ctx.dir, 'broker-a', 'consumequeue', 'T', '1'), { force: true });
  ctx.cluster.startBroker('broker-a');
  const b = ctx.cluster.broker();
  t.equal(b.recovery.rebuilt, true);
  t.equal(b.recovery.redispatched, 24);
  t.same(await readAll(ctx), expected(24));
  for (let q = 0; q < 4; q++) t.equal(b.getMaxOffset('T', q), 6);
});

t.test('a ConsumeQueue and a key index cut short are moved aside and rebuilt from the CommitLog', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 2);
  await fill(ctx, 20);
  ctx.cluster.stopBroker('broker-a');
  const cq = path.join(ctx.dir, 'broker-a', 'consumequeue', 'T', '1');
  const keys = path.join(ctx.dir, 'broker-a', 'index', 'keys.idx');
  fs.truncateSync(cq, 10);
  // Half the key index entries, the header still claiming them all.
  const header = fs.readFileSync(keys).subarray(0, 64);
  fs.truncateSync(keys, 64 + Math.floor(Number(header.readBigUInt64LE(16)) / 2) * header.readUInt32LE(8));
  ctx.cluster.startBroker('broker-a');
  const b = ctx.cluster.broker();
  t.same(b.recovery.setAside.sort(), [cq, keys].sort(), 'both files reported as set aside');
  t.equal(b.recovery.rebuilt, true);
  t.ok(fs.existsSync(cq + '.corrupt') && fs.existsSync(keys + '.corrupt'), 'the damaged files are kept beside');
  t.same(await readAll(ctx), expected(20), 'every message readable through its queue');
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  t.same((await p.queryMessage('T', 'key-3')).map((m) => m.body.toString()), ['m3'], 'key index rebuilt');
  t.same((await p.queryMessage('T', 'key-18')).map((m) => m.body.toString()), ['m18']);
});

t.test('ConsumeQueues behind the CommitLog (stale checkpoint, a crash) catch up without duplicates', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 2);
  await fill(ctx, 10);
  ctx.cluster.broker().persist();
  const cp = path.join(ctx.dir, 'broker-a', 'config', 'checkpoint.json');
  const stale = fs.readFileSync(cp);
  await fill(ctx, 10, 10);
  ctx.cluster.stopBroker('broker-a');
  fs.writeFileSync(cp, stale);
  ctx.cluster.startBroker('broker-a');
  const b = ctx.cluster.broker();
  t.equal(b.recovery.fromCheckpoint, true);
  t.ok(b.recovery.redispatched >= 10, 'records after the checkpoint dispatched again');
  t.same(await readAll(ctx), expected(20), 'every message once');
  t.equal(b.stats().dispatchGaps, 0);
  ctx.cluster.stopBroker('broker-a');
  fs.rmSync(cp);
  ctx.cluster.startBroker('broker-a');
  t.equal(ctx.cluster.broker().recovery.rebuilt, true, 'no checkpoint at all: full rebuild');
  t.same(await readAll(ctx), expected(20));
});

t.test('delayed messages and their progress survive a restart', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 1);
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  await p.send({ topic: 'T', body: 'd1', delayTimeLevel: 2 });
  await p.send({ topic: 'T', body: 'd2', delayTimeLevel: 3 });
  ctx.clock.now += 5000;
  ctx.cluster.tick();
  ctx.cluster.restartBroker();
  t.same(await readAll(ctx), ['d1']);
  ctx.clock.now += 5000;
  ctx.cluster.tick();
  ctx.cluster.dispatchNow();
  t.same(await readAll(ctx), ['d1', 'd2'], 'the second moved once due, the first not again');
});

t.test('dispatch lag stays bounded under a burst', async (t) => {
  const ctx = openCluster(t, { broker: { maxDispatchLagBytes: 64 * 1024 } });
  ctx.cluster.createTopic('T', 4);
  const b = ctx.cluster.broker();
  const body = Buffer.alloc(100, 7);
  const batch = Array.from({ length: 64 }, () => ({ topic: 'T', body }));
  // Synchronous sends never yield to the event loop, so only the bound makes dispatch run.
  for (let i = 0; i < 200; i++) b.sendMessage({ topic: 'T', queueId: i % 4, messages: batch });
  const s = b.stats();
  t.ok(s.inlineDispatches > 0, 'writers dispatched in line');
  t.ok(s.maxDispatchLagBytes < 64 * 1024 + 64 * 200, `lag peaked at ${s.maxDispatchLagBytes} bytes`);
  t.ok(s.dispatchLagBytes < 64 * 1024 + 64 * 200);
  b.dispatchNow();
  t.equal(b.stats().dispatchLagBytes, 0);
  t.equal(b.getMaxOffset('T', 0) + b.getMaxOffset('T', 1) + b.getMaxOffset('T', 2) + b.getMaxOffset('T', 3), 200 * 64);
});

t.test('a push consumer keeps consuming across a broker restart', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 2);
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  const got: string[] = [];
  const c = new PushConsumer({ group: 'live', transport: ctx.cluster.transport, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', pollTimeoutMs: 100, rebalanceIntervalMs: 100 });
  c.subscribe('T', '*');
  c.registerMessageListener((msgs) => {
    for (const m of msgs) got.push(m.body.toString());
    return 'CONSUME_SUCCESS';
  });
  t.teardown(() => c.shutdown());
  await c.start();
  await p.send(new Message('T', 'before'));
  await waitFor(() => got.length === 1);
  ctx.cluster.restartBroker();
  await p.send(new Message('T', 'after'));
  await waitFor(() => got.includes('after'), 8000, 'delivery after the restart');
  t.same(got, ['before', 'after'], 'nothing lost, nothing repeated');
});
