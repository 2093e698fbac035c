import t from 'tap';
import type { Test } from 'tap';
import { Message, Producer, PullConsumer, selectByHash, type MessageQueue } from '../../core/rocketmq';
import { openCluster } from './helpers';

async function setup(t: Test, brokers = ['broker-a', 'broker-b']) {
  const ctx = openCluster(t, { brokerNames: brokers });
  ctx.cluster.createTopic('Orders', 4);
  const producer = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await producer.start();
  const consumer = new PullConsumer({ group: 'cg', transport: ctx.cluster.transport });
  await consumer.start();
  return { ...ctx, producer, consumer };
}

t.test('round robin over every broker and queue; send result locates the message', async (t) => {
  const { producer, consumer, cluster } = await setup(t);
  const seen = new Map<string, number[]>();
  for (let i = 0; i < 16; i++) {
    const r = await producer.send(new Message('Orders', 'TagA', `k${i}`, `body-${i}`));
    t.equal(r.sendStatus, 'SEND_OK');
    t.match(r.msgId, /^[0-9A-F]{32}$/);
    const k = `${r.messageQueue.brokerName}/${r.queueId}`;
    seen.set(k, [...(seen.get(k) ?? []), r.queueOffset]);
    const m = await producer.viewMessage(r.msgId);
    t.equal(m.body.toString(), `body-${i}`);
    t.equal(m.queueId, r.queueId);
    t.equal(m.queueOffset, r.queueOffset);
    t.equal(m.brokerName, r.messageQueue.brokerName);
  }
  t.equal(seen.size, 8, 'all 8 queues of the two brokers used');
  for (const offsets of seen.values()) t.same(offsets, [0, 1], 'two messages per queue with offsets 0, 1');
  cluster.dispatchNow();
  const mqs = await consumer.fetchSubscribeMessageQueues('Orders');
  t.equal(mqs.length, 8);
  let total = 0;
  for (const mq of mqs) {
    const res = await consumer.pull(mq, '*', 0, 32);
    t.equal(res.pullStatus, 'FOUND');
    t.same(res.msgFoundList.map((m) => m.queueOffset), [0, 1]);
    t.equal(res.nextBeginOffset, 2);
    total += res.msgFoundList.length;
    t.equal((await consumer.pull(mq, '*', 2, 32)).pullStatus, 'NO_NEW_MSG');
    t.equal((await consumer.pull(mq, '*', 9, 32)).pullStatus, 'OFFSET_ILLEGAL');
  }
  t.equal(total, 16);
});

t.test('batch send: one queue, consecutive offsets, one id per message', async (t) => {
  const { producer, consumer, cluster } = await setup(t, ['broker-a']);
  const batch = Array.from({ length: 50 }, (_, i) => ({ topic: 'Orders', body: `m${i}` }));
  const r = await producer.send(batch);
  t.equal(r.msgIds.length, 50);
  t.equal(new Set(r.msgIds).size, 50);
  cluster.dispatchNow();
  const res = await consumer.pull(r.messageQueue, '*', r.queueOffset, 100);
  t.same(res.msgFoundList.map((m) => m.body.toString()), batch.map((m) => m.body));
  t.same(res.msgFoundList.map((m) => m.msgId), r.msgIds);
  t.equal((await producer.viewMessage(r.msgIds[49]!)).body.toString(), 'm49');
});

t.test('tags: filtered at the broker, offsets still advance', async (t) => {
  const { producer, consumer, cluster } = await setup(t, ['broker-a']);
  const mq: MessageQueue = { topic: 'Orders', brokerName: 'broker-a', queueId: 0 };
  const tags = ['TagA', 'TagB', 'TagC', 'TagA', 'TagC', 'TagC'];
  for (const tag of tags) await producer.send(new Message('Orders', tag, `x-${tag}`), mq);
  await producer.send(new Message('Orders', 'untagged'), mq);
  cluster.dispatchNow();
  const a = await consumer.pull(mq, 'TagA || TagB', 0, 32);
  t.same(a.msgFoundList.map((m) => m.tags), ['TagA', 'TagB', 'TagA']);
  t.equal(a.nextBeginOffset, 7, 'skipped entries are passed over');
  const c = await consumer.pull(mq, 'TagC', 5, 32);
  t.same(c.msgFoundList.map((m) => m.queueOffset), [5]);
  const none = await consumer.pull(mq, 'TagZ', 0, 32);
  t.equal(none.pullStatus, 'NO_MATCHED_MSG');
  t.equal(none.nextBeginOffset, 7);
  await t.rejects(consumer.pull(mq, 'A || ', 0, 1), { code: 'SUBSCRIPTION_PARSE_FAILED' });
});

t.test('query by key and by msgId', async (t) => {
  const { producer, consumer, clock } = await setup(t);
  const r1 = await producer.send(new Message('Orders', 'TagA', ['order-1', 'user-9'], 'first'));
  clock.now += 1000;
  const r2 = await producer.send(new Message('Orders', 'TagA', 'order-1', 'second'));
  await producer.send(new Message('Orders', 'TagA', 'order-2', 'other'));
  await new Promise((r) => setImmediate(r));
  const found = await consumer.queryMessage('Orders', 'order-1');
  t.same(found.map((m) => m.body.toString()), ['first', 'second']);
  t.same(found.map((m) => m.msgId), [r1.msgId, r2.msgId]);
  t.same((await consumer.queryMessage('Orders', 'user-9')).map((m) => m.body.toString()), ['first']);
  const late = await consumer.queryMessage('Orders', 'order-1', 32, clock.now - 10, clock.now + 10);
  t.same(late.map((m) => m.body.toString()), ['second'], 'time range narrows the result');
  await t.rejects(consumer.queryMessage('Orders', 'nope'), { code: 'NO_MESSAGE' });
  await t.rejects(consumer.viewMessage('7F00000100002A9F00000000FFFFFFFF'), { code: 'QUERY_NOT_FOUND' });
  await t.rejects(consumer.viewMessage('0A00000100002A9F0000000000000000'), { code: 'QUERY_NOT_FOUND' }, 'unknown broker address');
  await t.rejects(consumer.viewMessage('zz'), { code: 'MESSAGE_ILLEGAL' });
});

t.test('ordered messages: same key, same queue, FIFO', async (t) => {
  const { producer, consumer, cluster } = await setup(t);
  const queues = new Map<string, Set<string>>();
  for (let i = 0; i < 40; i++) {
    const order = `order-${i % 5}`;
    const r = await producer.send(new Message('Orders', 'TagA', order, `${order}:${i}`), selectByHash, order);
    if (!queues.has(order)) queues.set(order, new Set());
    queues.get(order)!.add(`${r.messageQueue.brokerName}/${r.queueId}`);
  }
  for (const [order, qs] of queues) t.equal(qs.size, 1, `${order} always goes to one queue`);
  cluster.dispatchNow();
  for (const mq of await consumer.fetchSubscribeMessageQueues('Orders')) {
    const res = await consumer.pull(mq, '*', 0, 100);
    const byOrder = new Map<string, number[]>();
    for (const m of res.msgFoundList) {
      const [order, seq] = m.body.toString().split(':');
      byOrder.set(order!, [...(byOrder.get(order!) ?? []), Number(seq)]);
    }
    for (const seqs of byOrder.values()) t.same(seqs, [...seqs].sort((a, b) => a - b), 'FIFO per key');
  }
});

t.test('bad input: typed errors, nothing stored', async (t) => {
  const { producer, cluster } = await setup(t, ['broker-a']);
  const before = cluster.broker().stats().commitLogEnd;
  await t.rejects(producer.send(new Message('NoSuchTopic', 'x')), { code: 'TOPIC_NOT_EXIST' });
  await t.rejects(producer.send(new Message('bad topic', 'x')), { code: 'ERR_BAD_NAME' });
  await t.rejects(producer.send(new Message('x'.repeat(128), 'x')), { code: 'ERR_BAD_NAME' });
  await t.rejects(producer.send(new Message('Orders', '')), { code: 'MESSAGE_ILLEGAL' });
  await t.rejects(producer.send({ topic: 'Orders', body: Buffer.alloc(4 * 1024 * 1024 + 1) }), { code: 'MESSAGE_ILLEGAL' });
  await t.rejects(producer.send({ topic: 'Orders', body: 'x', properties: { 'a\u0001': 'b' } }), { code: 'MESSAGE_ILLEGAL' });
  await t.rejects(producer.send([]), { code: 'MESSAGE_ILLEGAL' });
  await t.rejects(producer.send([{ topic: 'Orders', body: 'a' }, { topic: 'Other', body: 'b' }]), { code: 'MESSAGE_ILLEGAL' });
  const b = cluster.broker();
  t.throws(() => b.sendMessage({ topic: 'Orders', queueId: 99, messages: [{ topic: 'Orders', body: 'x' }] }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => b.sendMessage({ topic: 'Orders', queueId: 0, messages: [{ topic: 'Orders', body: 'x', delayTimeLevel: -1 }] }), { code: 'MESSAGE_ILLEGAL' });
  t.throws(() => b.getConsumerIdList('never-seen'), { code: 'SUBSCRIPTION_GROUP_NOT_EXIST' });
  t.throws(() => b.queryConsumerOffset('never-seen', 'Orders', 0), { code: 'SUBSCRIPTION_GROUP_NOT_EXIST' });
  t.throws(() => b.getMaxOffset('NoSuchTopic', 0), { code: 'TOPIC_NOT_EXIST' });
  t.equal(b.stats().commitLogEnd, before, 'nothing was appended');
  const ok = await producer.send(new Message('Orders', 'still works'));
  t.equal(ok.sendStatus, 'SEND_OK');
  t.equal(ok.queueOffset, 0, 'no queue offset was used up by the refused sends');
});

t.test('batches across CommitLog segment rolls: every msgId and queue entry locates its own message', async (t) => {
  const ctx = openCluster(t, { broker: { segmentBytes: 160 * 1024, maxMessageSize: 32 * 1024 } });
  ctx.cluster.createTopic('Orders', 2);
  const producer = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await producer.start();
  const consumer = new PullConsumer({ group: 'cg', transport: ctx.cluster.transport });
  await consumer.start();
  const ids: Array<[string, string]> = [];
  for (let b = 0; b < 80; b++) {
    const batch = Array.from({ length: 37 }, (_, i) => ({ topic: 'Orders', body: `b${b}-m${i}-`.padEnd(60 + ((b * 7 + i) % 90), 'x') }));
    const r = await producer.send(batch);
    r.msgIds.forEach((id, i) => ids.push([id, batch[i]!.body]));
  }
  for (const [id, body] of ids) {
    const m = await producer.viewMessage(id);
    if (m.body.toString() !== body) t.fail(`msgId ${id} points at another message`);
  }
  ctx.cluster.dispatchNow();
  let total = 0;
  for (const mq of await consumer.fetchSubscribeMessageQueues('Orders')) {
    for (let off = 0; ; ) {
      const res = await consumer.pull(mq, '*', off, 500);
      if (res.pullStatus !== 'FOUND') break;
      total += res.msgFoundList.length;
      off = res.nextBeginOffset;
    }
  }
  t.equal(total, 80 * 37, 'every message reachable through its ConsumeQueue');
  t.equal(ids.length, 80 * 37);
  t.equal(new Set(ids.map(([id]) => id)).size, ids.length, 'ids are distinct');
});
